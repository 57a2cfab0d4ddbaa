"""Use case: keep the store's links current, and let analysts link, unlink and browse networks."""

from __future__ import annotations

from dataclasses import dataclass

from safeguard.domain.errors import InputError
from safeguard.domain.intel.links import Link, LinkKind, Suppression, ordered_pair
from safeguard.domain.intel.subjects import IntelAuditEvent
from safeguard.services.intel.clock import Clock, utc_now
from safeguard.services.intel.linking import LinkPolicy, LinkRun, compute_links, networks
from safeguard.storage.intel_store import IntelStore


@dataclass(frozen=True, slots=True)
class Network:
    """A connected group of subjects and the links inside it.

    Attributes:
        network_id: the smallest member id (stable while the membership is).
        members: subject ids, ascending.
        links: every link between two members (computed links below the floor included,
            so an analyst sees the weak ties too).
    """

    network_id: int
    members: tuple[int, ...]
    links: tuple[Link, ...]


class LinkService:
    """Computes links from the store's referrals and keeps analysts' decisions."""

    def __init__(
        self, store: IntelStore, policy: LinkPolicy | None = None, clock: Clock = utc_now
    ) -> None:
        self.store = store
        self.policy = policy or LinkPolicy()
        self._clock = clock

    def relink(self) -> LinkRun:
        """Recompute every computed link from the referrals and replace the stored ones."""
        run = compute_links(
            self.store.key_observations(),
            self.policy,
            self._clock(),
            referral_total=self.store.referral_count(),
        )
        self.store.replace_computed_links(run.links)
        return run

    def _resolution(self) -> dict[int, int]:
        """Merged subject id -> the active subject it ended up in."""
        merged = {s.subject_id: s.merged_into for s in self.store.subjects(include_merged=True)}
        resolved: dict[int, int] = {}
        for subject_id, target in merged.items():
            if target is None:
                continue
            while merged.get(target) is not None:
                next_target = merged[target]
                assert next_target is not None
                target = next_target
            resolved[subject_id] = target
        return resolved

    def networks(self, min_size: int = 2) -> list[Network]:
        """Every network of at least `min_size` members, biggest first."""
        links = self.store.links()
        resolve = self._resolution()
        suppressed = [(s.subject_a, s.subject_b) for s in self.store.suppressions()]
        groups = networks(links, self.policy.floor, suppressed, resolve)
        by_member: dict[int, list[Link]] = {}
        for link in links:
            by_member.setdefault(resolve.get(link.subject_a, link.subject_a), []).append(link)
        out = []
        for group in groups:
            if len(group) < min_size:
                continue
            members = set(group)
            inside = {
                link.link_id: link
                for member in group
                for link in by_member.get(member, [])
                if resolve.get(link.subject_b, link.subject_b) in members
            }
            out.append(Network(group[0], tuple(group), tuple(inside[i] for i in sorted(inside))))
        return out

    def network_of(self, subject_id: int) -> Network:
        """The network the subject is in (just the subject when it is linked to no one)."""
        self.store.subject(subject_id)
        for network in self.networks():
            if subject_id in network.members:
                return network
        return Network(subject_id, (subject_id,), ())

    def link(self, a: int, b: int, by: str, reason: str) -> Link:
        """An analyst links two subjects (weight 1), with why; audited. Lifts an unlink.

        Raises:
            InputError: no reason, or the same subject twice.
            NotFoundError: no such subject.
        """
        if not reason.strip():
            raise InputError("linking subjects needs a reason")
        first, second = _pair(a, b)
        for subject_id in (first, second):
            if not self.store.subject(subject_id).active:
                raise InputError(f"subject {subject_id} was merged; link the subject it is in")
        now = self._clock()
        for suppression in self.store.suppressions():
            if (suppression.subject_a, suppression.subject_b) == (first, second):
                self.store.lift_suppression(suppression.suppression_id, by, now)
        link = self.store.add_link(
            Link(first, second, LinkKind.ANALYST, "analyst", 1.0, (), reason, now, by)
        )
        self._audit(by, "subjects.linked", first, second, reason)
        return link

    def unlink(self, a: int, b: int, by: str, reason: str) -> Suppression:
        """An analyst says two subjects are not linked; audited.

        Their analyst links are removed and computed links between them stop counting for
        networks (they stay visible, with their evidence).

        Raises:
            InputError: no reason, or the same subject twice.
        """
        if not reason.strip():
            raise InputError("unlinking subjects needs a reason")
        first, second = _pair(a, b)
        self.store.subject(first)
        self.store.subject(second)
        for link in self.store.links(first):
            if link.kind is LinkKind.ANALYST and link.pair == (first, second):
                self.store.remove_link(link.link_id)
        suppression = self.store.add_suppression(
            Suppression(first, second, by, self._clock(), reason)
        )
        self._audit(by, "subjects.unlinked", first, second, reason)
        return suppression

    def _audit(self, by: str, action: str, a: int, b: int, reason: str) -> None:
        now = self._clock()
        for subject_id, other in ((a, b), (b, a)):
            self.store.append_audit(
                IntelAuditEvent(
                    now, by, action, subject_id, {"other_subject": str(other), "reason": reason}
                )
            )


def _pair(a: int, b: int) -> tuple[int, int]:
    try:
        return ordered_pair(a, b)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
