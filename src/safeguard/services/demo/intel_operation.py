"""A synthetic intelligence operation with planted truth, for tests, the demo and benchmarks.

Everything is benign and reserved: email addresses at example.com and example.org, IPv4
addresses from the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)
and IPv6 from 2001:db8::/32, phone numbers from Ofcom's drama ranges (07700 900000-900999
and the geographic ones),
device ids marked ``SYN``. File hashes are either drawn from the hash lists given (the
demo lists) or made up for synthetic list entries; they never describe any content.

Planted truth:
- networks of 3-6 people tied by one planted kind of evidence: shared listed images
  (three "core" images each member holds), a shared device, a shared phone, the same IPv4
  address within the same hour, or shared material on no list;
- a viral listed image in a set share of all referrals (it must link no one);
- a carrier-grade NAT address seen across many referrals, each with its own port (it must
  link no one);
- high-risk people: escalated reports with contact annotations, material on no list,
  and analyst facts (a role with access to children) to record after intake.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.referrals import (
    FileMatch,
    Referral,
    ReferralFile,
    ReferralSource,
    with_content_key,
)

SERVICE = "Example Chat"
SYNTHETIC_LIST = "synthetic-known-bad"
INCIDENT = "Child Pornography (possession, manufacture, and distribution)"
ENTICEMENT = "Online Enticement of Children for Sexual Act"
NETWORK_KINDS = ("images", "device", "phone", "ip", "unlisted")
CGNAT_ADDRESS = "198.51.100.200"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SHARED_ADDRESSES = tuple(
    f"{prefix}.{host}"
    for prefix in ("203.0.113", "192.0.2", "198.51.100")
    for host in range(1, 255)
    if f"{prefix}.{host}" != CGNAT_ADDRESS
)
"""Documentation IPv4 addresses for IP-tied networks: one each (up to 761 such networks)."""


@dataclass(frozen=True, slots=True)
class KnownImage:
    """A list entry the operation's files may carry (hashes only, never content).

    Attributes:
        entry_id: the entry's id in its list.
        md5: its MD5 (the hash the referral file carries).
        list_name: its list.
        category: (scheme, code) of the entry.
        prematched: True when the file should carry the match already (synthetic entries
            that no imported list holds); False for entries of a real imported list, which
            intake matching finds.
    """

    entry_id: str
    md5: str
    list_name: str = SYNTHETIC_LIST
    category: tuple[str, str] = ("uk-sentencing", "C")
    prematched: bool = True

    def file(self) -> ReferralFile:
        """A referral file carrying this image."""
        matches: tuple[FileMatch, ...] = ()
        if self.prematched:
            matches = (
                FileMatch(
                    list_name=self.list_name,
                    entry_id=self.entry_id,
                    algorithm="md5",
                    list_version="synthetic-1",
                    category_scheme=self.category[0],
                    category_code=self.category[1],
                    category_label=f"{self.category[0]} {self.category[1]}",
                ),
            )
        return ReferralFile(name=f"{self.entry_id}.jpg", hashes={"md5": self.md5}, matches=matches)


@dataclass(frozen=True, slots=True)
class PlantedPerson:
    """One synthetic person and what was planted on them."""

    person_id: int
    email: str
    network: int | None = None
    high_risk: bool = False


@dataclass
class SyntheticOperation:
    """Referrals with their planted truth.

    Attributes:
        referrals: every referral, content keys computed.
        person_of: referral external id -> person id.
        people: person id -> the person.
        networks: network id -> its members' person ids.
        viral_key: the image key of the viral image.
        high_risk: person ids planted as high risk (facts in `facts_to_record`).
        facts_to_record: person id -> analyst facts to record after intake.
    """

    referrals: list[Referral] = field(default_factory=list)
    person_of: dict[str, int] = field(default_factory=dict)
    people: dict[int, PlantedPerson] = field(default_factory=dict)
    networks: dict[int, list[int]] = field(default_factory=dict)
    viral_key: str = ""
    high_risk: list[int] = field(default_factory=list)
    facts_to_record: dict[int, dict[str, object]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Tie:
    """What ties one planted network together."""

    kind: str
    images: tuple[KnownImage, ...]
    device: str
    phone: str
    ip: str
    meeting: datetime
    unlisted: ReferralFile


DRAMA_PHONE_BLOCKS = (
    "+447700900",
    "+442079460",
    "+441134960",
    "+441144960",
    "+441154960",
    "+441164960",
    "+441174960",
    "+441184960",
    "+441214960",
    "+441314960",
    "+441414960",
    "+441514960",
    "+441614960",
    "+441914980",
)
"""Ofcom's numbers reserved for drama, each block followed by three digits (000-999)."""


def drama_phone(number: int) -> str:
    """The `number`-th drama-reserved UK number in E.164 (14,000 of them, then repeating)."""
    block = DRAMA_PHONE_BLOCKS[(number // 1000) % len(DRAMA_PHONE_BLOCKS)]
    return f"{block}{number % 1000:03d}"


def synthetic_image(number: int, category: tuple[str, str] = ("uk-sentencing", "C")) -> KnownImage:
    """A made-up list entry (its MD5 is a digest of its number, not of any content)."""
    digest = hashlib.md5(f"synthetic-entry-{number}".encode(), usedforsecurity=False).hexdigest()
    return KnownImage(f"S{number:07d}", digest, category=category)


def _unlisted(tag: str) -> ReferralFile:
    digest = hashlib.sha256(f"synthetic-unlisted-{tag}".encode()).hexdigest()
    return ReferralFile(name=f"new-{tag}.jpg", hashes={"sha256": digest})


def generate_operation(
    referrals: int,
    *,
    seed: int = 14,
    network_share: float = 0.12,
    viral_share: float = 0.20,
    cgnat_share: float = 0.02,
    high_risk: int = 5,
    known_images: Sequence[KnownImage] = (),
) -> SyntheticOperation:
    """About `referrals` referrals (exactly that many) with planted networks and noise.

    Args:
        referrals: how many referrals to make.
        seed: the random seed (same seed, same operation).
        network_share: the share of people planted in networks.
        viral_share: the share of referrals carrying the viral image.
        cgnat_share: the share of referrals seen on the carrier-grade NAT address.
        high_risk: how many high-risk people to plant (inside networks first).
        known_images: entries of real lists to use for network and high-risk images
            (the demo lists); synthetic entries fill in the rest.
    """
    rng = random.Random(seed)
    op = SyntheticOperation()
    viral = synthetic_image(0)
    op.viral_key = f"entry:{viral.list_name}:{viral.entry_id}"
    background = max(1000, referrals * 2)  # a big pool: chance overlaps are rare
    real = list(known_images)
    next_image = [background + 1]

    def fresh_image(category: tuple[str, str] = ("uk-sentencing", "C")) -> KnownImage:
        if real:
            return real.pop(0)
        next_image[0] += 1
        return synthetic_image(next_image[0], category)

    # People: some with repeat referrals; planted networks among them.
    people_needed = max(4, int(referrals * 0.8))
    for person_id in range(1, people_needed + 1):
        domain = "example.com" if person_id % 2 else "example.org"
        op.people[person_id] = PlantedPerson(person_id, f"person{person_id}@{domain}")
    in_networks = int(people_needed * network_share)
    members = rng.sample(range(1, people_needed + 1), in_networks)
    network_id = 0
    while len(members) >= 3:
        size = min(len(members), rng.randint(3, 6))  # up to 2 left over stay unplanted
        network_id += 1
        group, members = members[:size], members[size:]
        op.networks[network_id] = group
        for person_id in group:
            op.people[person_id] = PlantedPerson(
                person_id, op.people[person_id].email, network=network_id
            )
    risky = [p for group in op.networks.values() for p in group[:1]][:high_risk]
    for person_id in risky:
        op.people[person_id] = PlantedPerson(
            person_id, op.people[person_id].email, op.people[person_id].network, True
        )
        op.high_risk.append(person_id)
        op.facts_to_record[person_id] = {
            "occupation": rng.choice(["teacher", "scout leader", "care worker", "doctor"]),
            "role_with_access_to_children": True,
        }

    # What ties each network together.
    ties: dict[int, _Tie] = {}
    for net in op.networks:
        ties[net] = _Tie(
            kind=NETWORK_KINDS[(net - 1) % len(NETWORK_KINDS)],
            images=tuple(fresh_image(("uk-sentencing", "A")) for _ in range(3)),
            device=f"SYN{net:09d}",
            phone=drama_phone(net),
            ip=SHARED_ADDRESSES[((net - 1) // len(NETWORK_KINDS)) % len(SHARED_ADDRESSES)],
            meeting=START + timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 600)),
            unlisted=_unlisted(f"network-{net}"),
        )

    # Referrals: every person gets one; the rest go to random people as repeats.
    owners = list(op.people)
    owners += [rng.choice(owners) for _ in range(max(0, referrals - len(owners)))]
    owners = owners[:referrals]
    rng.shuffle(owners)
    seen_count: dict[int, int] = {}
    for index, person_id in enumerate(owners, start=1):
        person = op.people[person_id]
        nth = seen_count.get(person_id, 0)
        seen_count[person_id] = nth + 1
        at = START + timedelta(days=rng.randint(0, 330), minutes=rng.randint(0, 1440))
        identifiers = [
            Identifier.of(IdentifierKind.EMAIL, person.email),
            Identifier.of(
                IdentifierKind.IP_ADDRESS,
                f"2001:db8:{person_id >> 16:x}:{person_id & 0xFFFF:x}::{nth + 1:x}",
                observed_at=at,
            ),
        ]
        files = [
            synthetic_image(rng.randint(1, background)).file() for _ in range(rng.randint(1, 2))
        ]
        annotations: tuple[str, ...] = ()
        escalation = ""
        incident = INCIDENT
        if rng.random() < viral_share:
            files.append(viral.file())
        if rng.random() < cgnat_share:
            identifiers.append(
                Identifier.of(
                    IdentifierKind.IP_ADDRESS,
                    CGNAT_ADDRESS,
                    observed_at=at + timedelta(minutes=1),
                    port=1024 + index % 64000,
                )
            )
        if person.network is not None and nth == 0:
            tie = ties[person.network]
            if tie.kind == "images":
                files.extend(image.file() for image in tie.images)
            elif tie.kind == "device":
                identifiers.append(Identifier.of(IdentifierKind.DEVICE_ID, tie.device))
            elif tie.kind == "phone":
                identifiers.append(Identifier.of(IdentifierKind.PHONE, tie.phone))
            elif tie.kind == "ip":
                identifiers.append(
                    Identifier.of(
                        IdentifierKind.IP_ADDRESS,
                        tie.ip,
                        observed_at=tie.meeting + timedelta(minutes=rng.randint(0, 30)),
                    )
                )
            else:
                files.append(tie.unlisted)
        if person.high_risk and nth == 0:
            annotations = ("csamSolicitation",)
            escalation = "Reporter believes a child is at immediate risk"
            incident = ENTICEMENT
            files.append(_unlisted(f"risk-{person_id}"))
        external_id = f"SYN-{index:07d}"
        op.person_of[external_id] = person_id
        op.referrals.append(
            with_content_key(
                Referral(
                    source=ReferralSource.CYBERTIPLINE,
                    external_id=external_id,
                    content_key="",
                    received_at=at + timedelta(days=1),
                    incident_type=incident,
                    incident_at=at,
                    escalation=escalation,
                    annotations=annotations,
                    reporter=SERVICE,
                    identifiers=tuple(identifiers),
                    files=tuple(files),
                )
            )
        )
    return op


@dataclass(frozen=True, slots=True)
class Recovery:
    """How well found networks match the planted ones, over pairs of people.

    Attributes:
        precision: planted pairs among found pairs.
        recall: found pairs among planted pairs.
        found_pairs, planted_pairs, true_pairs: the counts behind them.
    """

    precision: float
    recall: float
    found_pairs: int
    planted_pairs: int
    true_pairs: int


def _pairs(groups: Sequence[Sequence[int]]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for group in groups:
        members = sorted(set(group))
        for i, a in enumerate(members):
            pairs.update((a, b) for b in members[i + 1 :])
    return pairs


def score_recovery(
    op: SyntheticOperation, found: Sequence[Sequence[int]], person_of_subject: dict[int, int]
) -> Recovery:
    """Compare found networks (of subject ids) with the planted ones (of person ids)."""
    found_people = [
        [person_of_subject[s] for s in group if s in person_of_subject] for group in found
    ]
    found_pairs = _pairs(found_people)
    planted = _pairs(list(op.networks.values()))
    true = found_pairs & planted
    return Recovery(
        precision=len(true) / len(found_pairs) if found_pairs else 1.0,
        recall=len(true) / len(planted) if planted else 1.0,
        found_pairs=len(found_pairs),
        planted_pairs=len(planted),
        true_pairs=len(true),
    )
