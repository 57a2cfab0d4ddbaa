"""The link rules: which shared things link two subjects, how strongly, and the networks.

A thing (an identifier key or an image key) shared by the referrals of two subjects links
them with weight ``base weight of its kind x rarity``. A thing is *too common* when it is
seen in more referrals than ``cap = max(common_floor, max_share x N)`` (N: all referrals),
or is held by more than ``max_subjects`` subjects: then it links no one, so a viral image,
a carrier-grade NAT address or a public Wi-Fi ties nobody together. Below the cap, rarity
falls smoothly from 1 (a thing seen in two referrals): ``1 - ln(df / 2) / ln(scale / 2)``
for a thing seen in ``df`` referrals, where ``scale = max(cap, rarity_scale)`` (so in a
small operation a thing shared by a handful of referrals still counts as rare).

IP addresses are shared over time (one address passes from household to household), so
they link only observations within ``ip_window`` of each other, and when both give a
source port (carrier-grade NAT shares one address among many at once), only the same
port. Their rarity is that of a crowd, whatever the size of the operation: ``df`` is the
number of referrals on the address within the window and the cap is ``max_subjects``.

Two subjects are in one network when the weights of everything they share add up to at
least ``floor`` (or an analyst linked them), unless an analyst unlinked them. Networks are
the connected groups of that graph.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from safeguard.domain.intel.identifiers import IdentifierKind
from safeguard.domain.intel.links import IMAGE_KIND, KeyObservation, Link, LinkKind

_NEVER = datetime.min.replace(tzinfo=UTC)

LISTED_IMAGE = "image-listed"
UNLISTED_IMAGE = "image-unlisted"

DEFAULT_WEIGHTS: Mapping[str, float] = {
    IdentifierKind.EMAIL.value: 1.0,
    IdentifierKind.PLATFORM_USER_ID.value: 1.0,
    IdentifierKind.PHONE.value: 0.9,
    IdentifierKind.DEVICE_ID.value: 0.9,
    IdentifierKind.SCREEN_NAME.value: 0.8,
    IdentifierKind.IP_ADDRESS.value: 0.8,
    IdentifierKind.POSTAL_ADDRESS.value: 0.6,
    IdentifierKind.POSTCODE.value: 0.15,
    # One known image in common is weak (widely traded series); two rare ones reach the floor.
    LISTED_IMAGE: 0.35,
    # Material on no list shared by two people suggests direct contact.
    UNLISTED_IMAGE: 0.8,
}


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """The link rules' parameters (see the module docstring).

    Attributes:
        version: named in every computed link's provenance.
        weights: base weight per identifier kind, `LISTED_IMAGE` and `UNLISTED_IMAGE`.
        max_share: things in more than this share of referrals link no one.
        common_floor: ... unless seen in no more than this many referrals.
        rarity_scale: rarity is measured against at least this many referrals.
        max_subjects: things held by more subjects than this link no one.
        ip_window: IP observations further apart than this do not link.
        floor: the summed weight at which two subjects are in one network.
    """

    version: str = "linking-1"
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    max_share: float = 0.02
    common_floor: int = 25
    rarity_scale: int = 200
    max_subjects: int = 50
    ip_window: timedelta = timedelta(hours=1)
    floor: float = 0.5


@dataclass(frozen=True, slots=True)
class LinkRun:
    """What one linking run produced.

    Attributes:
        links: one link per shared thing per pair of subjects.
        too_common: keys that were held by several subjects but linked no one, with the
            number of referrals that carry each.
        referrals: N, the number of referrals the rarity was computed over.
    """

    links: list[Link]
    too_common: dict[str, int]
    referrals: int


def weight_kind(kind: str, key: str) -> str:
    """The `LinkPolicy.weights` entry for an observation of `kind` with `key`."""
    if kind == IMAGE_KIND:
        return LISTED_IMAGE if key.startswith("entry:") else UNLISTED_IMAGE
    return kind


def rarity(seen_in: int, cap: float) -> float:
    """``1 - ln(seen_in / 2) / ln(cap / 2)`` within [0, 1]: 1 up to two referrals, 0 at `cap`."""
    if seen_in <= 2:
        return 1.0
    if seen_in >= cap:
        return 0.0
    return max(0.0, min(1.0, 1 - math.log(seen_in / 2) / math.log(cap / 2)))


def compute_links(
    observations: Iterable[KeyObservation],
    policy: LinkPolicy,
    now: datetime,
    referral_total: int | None = None,
) -> LinkRun:
    """Apply the link rules to every observation (one pass, grouped by key).

    Args:
        observations: every linkable key of every referral with its subject.
        policy: the rules' parameters.
        now: the links' creation time.
        referral_total: N for rarity; by default the number of distinct referrals seen.
    """
    by_key: dict[str, list[KeyObservation]] = defaultdict(list)
    referrals: set[int] = set()
    for observation in observations:
        by_key[observation.key].append(observation)
        referrals.add(observation.referral_id)
    total = referral_total if referral_total is not None else len(referrals)
    common = max(policy.common_floor, policy.max_share * total)
    links: list[Link] = []
    too_common: dict[str, int] = {}
    provenance = f"computed by link rules {policy.version}"
    for key, group in by_key.items():
        first_subject = group[0].subject_id
        if all(o.subject_id == first_subject for o in group):
            continue
        seen_in = len({o.referral_id for o in group})
        subjects = {o.subject_id for o in group}
        is_ip = group[0].kind == IdentifierKind.IP_ADDRESS.value
        # An address's referrals spread over time; for IPs only concurrency counts (below).
        if not is_ip and (seen_in > common or len(subjects) > policy.max_subjects):
            too_common[key] = seen_in
            continue
        kind = group[0].kind
        base = policy.weights.get(weight_kind(kind, key), 0.0)
        link_kind = LinkKind.IMAGE if kind == IMAGE_KIND else LinkKind.IDENTIFIER
        if kind == IdentifierKind.IP_ADDRESS.value:
            ip_pairs, crowded = _ip_pairs(group, policy.ip_window, policy.max_subjects)
            if crowded:
                too_common[key] = crowded
            for (a, b), (evidence, concurrent) in ip_pairs.items():
                weight = round(base * rarity(concurrent, policy.max_subjects), 4)
                if weight > 0:
                    links.append(
                        Link(a, b, link_kind, key, weight, tuple(sorted(evidence)), provenance, now)
                    )
            continue
        weight = round(base * rarity(seen_in, max(common, policy.rarity_scale)), 4)
        if weight <= 0:
            continue
        for (a, b), evidence in _all_pairs(group).items():
            links.append(
                Link(a, b, link_kind, key, weight, tuple(sorted(evidence)), provenance, now)
            )
    return LinkRun(links, too_common, total)


def _all_pairs(group: Sequence[KeyObservation]) -> dict[tuple[int, int], set[int]]:
    by_subject: dict[int, set[int]] = defaultdict(set)
    for o in group:
        by_subject[o.subject_id].add(o.referral_id)
    subjects = sorted(by_subject)
    pairs: dict[tuple[int, int], set[int]] = {}
    for i, a in enumerate(subjects):
        for b in subjects[i + 1 :]:
            pairs[(a, b)] = by_subject[a] | by_subject[b]
    return pairs


def _ip_pairs(
    group: Sequence[KeyObservation], window: timedelta, cap: float
) -> tuple[dict[tuple[int, int], tuple[set[int], int]], int]:
    """Pairs of subjects seen on the address within `window`, on the same port if known.

    Returns:
        pair -> (referral ids in evidence, the most referrals seen on the address within
        one window the pair met in); and the most referrals seen within one window where
        that reached `cap` (such windows link no one), else 0.
    """
    timed = sorted(
        (o for o in group if o.observed_at is not None),
        key=lambda o: o.observed_at or _NEVER,
    )
    pairs: dict[tuple[int, int], tuple[set[int], int]] = {}
    crowded = 0
    start = 0
    for index, current in enumerate(timed):
        now = current.observed_at or _NEVER
        while (timed[start].observed_at or _NEVER) < now - window:
            start += 1
        in_window = timed[start : index + 1]
        concurrent = len({o.referral_id for o in in_window})
        if concurrent >= cap:
            crowded = max(crowded, concurrent)
            continue
        for earlier in in_window[:-1]:
            if earlier.subject_id == current.subject_id:
                continue
            if (
                earlier.port is not None
                and current.port is not None
                and earlier.port != current.port
            ):
                continue
            a, b = sorted((earlier.subject_id, current.subject_id))
            evidence, most = pairs.get((a, b), (set(), 0))
            evidence.update((earlier.referral_id, current.referral_id))
            pairs[(a, b)] = (evidence, max(most, concurrent))
    return pairs, crowded


def pair_weights(links: Iterable[Link]) -> dict[tuple[int, int], float]:
    """The summed weight of every linked pair (analyst links count as 1 each)."""
    totals: dict[tuple[int, int], float] = defaultdict(float)
    for link in links:
        totals[link.pair] += 1.0 if link.kind is LinkKind.ANALYST else link.weight
    return dict(totals)


def networks(
    links: Iterable[Link],
    floor: float,
    suppressed: Iterable[tuple[int, int]] = (),
    resolve: Mapping[int, int] | None = None,
) -> list[list[int]]:
    """Connected groups of subjects over pairs at or above `floor`, biggest first.

    Args:
        links: computed and analyst links.
        floor: the summed weight a pair needs.
        suppressed: pairs an analyst unlinked (never joined directly).
        resolve: subject id -> the subject it was merged into, for links that name a
            merged subject (analyst links keep the ids they were made with).
    """
    resolve = resolve or {}
    blocked = set(suppressed)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    totals: dict[tuple[int, int], float] = defaultdict(float)
    for link in links:
        a, b = (
            resolve.get(link.subject_a, link.subject_a),
            resolve.get(link.subject_b, link.subject_b),
        )
        if a != b:
            totals[(min(a, b), max(a, b))] += 1.0 if link.kind is LinkKind.ANALYST else link.weight
    for (a, b), total in totals.items():
        if total < floor - 1e-9 or (a, b) in blocked:
            continue
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    groups: dict[int, list[int]] = defaultdict(list)
    for member in parent:
        groups[find(member)].append(member)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))
