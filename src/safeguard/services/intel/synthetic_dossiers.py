"""Synthetic subject dossiers for tests, the demo and the benchmark (not a use case).

Identifiers come from reserved ranges only (example.com / example.org, documentation IP
ranges, Ofcom's drama telephone numbers); postcodes are real public postcodes of public
buildings, one in each force; hashes are made up and match nothing.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace

from safeguard.domain.errors import NotFoundError
from safeguard.domain.package_content import (
    RISK_BANDS,
    DeviceLine,
    EvidenceLine,
    IdentifierLine,
    LinkedSubject,
    Location,
    ReferralLine,
    Risk,
    RiskFactor,
)
from safeguard.services.intel.packages import SubjectDossier

FORCE_POSTCODES = {
    "metropolitan": "SW1A 2AA",
    "cumbria": "CA1 1QS",
    "lancashire": "PR1 2HE",
    "merseyside": "L1 8JQ",
    "greater-manchester": "M1 1AE",
    "cheshire": "CH1 2HJ",
    "northumbria": "NE1 1EE",
    "durham": "DH1 3NJ",
    "north-yorkshire": "YO1 7HH",
    "west-yorkshire": "LS1 1UR",
    "south-yorkshire": "S1 2HE",
    "humberside": "HU1 2AA",
    "cleveland": "TS1 2AT",
    "west-midlands": "B1 1BB",
    "staffordshire": "ST16 2DH",
    "west-mercia": "WR1 2EY",
    "warwickshire": "CV34 4RL",
    "derbyshire": "DE1 3AH",
    "nottinghamshire": "NG1 5DT",
    "lincolnshire": "LN1 1YL",
    "leicestershire": "LE1 5FQ",
    "northamptonshire": "NN1 1DE",
    "cambridgeshire": "CB2 1TN",
    "norfolk": "NR2 1NH",
    "suffolk": "IP1 1AA",
    "bedfordshire": "MK40 1SJ",
    "hertfordshire": "AL1 3JE",
    "essex": "CM1 1QH",
    "thames-valley": "OX1 1DP",
    "hampshire": "SO14 7LP",
    "surrey": "GU1 3AA",
    "kent": "CT1 2EH",
    "sussex": "BN1 1UG",
    "city-of-london": "EC2V 7HH",
    "devon-and-cornwall": "EX1 1HF",
    "avon-and-somerset": "BS1 5TR",
    "gloucestershire": "GL1 2EH",
    "wiltshire": "SP1 1JH",
    "dorset": "DT1 1XJ",
    "north-wales": "LL57 1DT",
    "gwent": "NP20 4UR",
    "south-wales": "CF10 1EP",
    "dyfed-powys": "SA31 1PG",
    "scotland": "EH1 1AA",
    "northern-ireland": "BT1 1AA",
}
"""One real postcode in each of the 45 forces (checked against the shipped directory)."""

_FACTORS = (
    ("Access to children", 3.0, "recorded by an analyst: lives with two children", "KIRAT"),
    ("Prior sexual offence", 2.0, "registered sex offender", "KIRAT, RM2000"),
    ("Production indicator", 2.5, "first-generation material (hash on no list)", "KIRAT"),
    ("Escalation flag", 1.5, "platform escalated the report", "CyberTipline"),
    ("Severity of known material", 1.0, "category A items among the matches", "CPORT"),
    ("Repeat referrals", 0.5, "three referrals over six months", "analyst practice"),
)


def synthetic_dossier(index: int, rng: random.Random, force: str | None = None) -> SubjectDossier:
    """A made-up dossier; `force` picks the postcode's force, else one is drawn."""
    forces = list(FORCE_POSTCODES)
    chosen = force or forces[index % len(forces)]
    band = RISK_BANDS[rng.choice((0, 1, 1, 2, 2, 2, 3, 3))]
    reference = f"SUBJ-{index:06d}"
    n_ref = rng.randint(1, 4)
    referrals = tuple(
        ReferralLine(
            reference=f"REF-{index:06d}-{j}",
            source=rng.choice(("CyberTipline", "platform report", "forensic case")),
            received_at=f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
            source_evaluation=rng.choice("123"),
            intelligence_assessment=rng.choice("ABCDE"),
            handling_code="C" if rng.random() < 0.2 else "P",
            conditions="Not to be shared outside policing without the originator's consent."
            if rng.random() < 0.5
            else "",
            summary="Known images shared from the account.",
        )
        for j in range(n_ref)
    )
    evidence = tuple(
        EvidenceLine(
            algorithm=rng.choice(("sha256", "pdq")),
            digest=hashlib.sha256(f"{index}-{j}".encode()).hexdigest(),
            list_name="demo-known-bad",
            list_version="1",
            category=rng.choice(("A", "B", "C")),
            distance=None if rng.random() < 0.6 else rng.randint(0, 31),
            first_seen="2026-01-05",
            last_seen="2026-10-30",
        )
        for j in range(rng.randint(1, 8))
    )
    factors = tuple(RiskFactor(*f) for f in _FACTORS[: rng.randint(1, len(_FACTORS))])
    return SubjectDossier(
        reference=reference,
        display_name=f"Subject {index}",
        identifiers=(
            IdentifierLine("email", f"subject{index}@example.com"),
            IdentifierLine("phone", f"+44 7700 900{index % 1000:03d}"),
            IdentifierLine("ip", f"192.0.2.{index % 254 + 1}", "2026-10-30T12:00:00Z port 443"),
            IdentifierLine("screen name", f"user{index}", "example.org chat"),
        ),
        location=Location(FORCE_POSTCODES[chosen], f"{index} Example Street", "UK"),
        linked=(),
        referrals=referrals,
        evidence=evidence,
        devices=(DeviceLine(f"CASE-{index}", "EX/1", "laptop", rng.randint(0, 40)),)
        if rng.random() < 0.3
        else (),
        risk=Risk(band=band, computed_band=band, factors=factors),
    )


@dataclass
class SyntheticDossiers:
    """A `DossierSource` over dossiers held in memory (`add`, or `generate` many)."""

    dossiers: dict[str, SubjectDossier] = field(default_factory=dict)
    networks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, dossier: SubjectDossier) -> SubjectDossier:
        """Hold (or replace) a dossier."""
        self.dossiers[dossier.reference] = dossier
        return dossier

    def generate(self, count: int, seed: int = 15) -> list[SubjectDossier]:
        """Add `count` synthetic dossiers spread over the 45 forces."""
        rng = random.Random(seed)
        start = len(self.dossiers)
        return [self.add(synthetic_dossier(start + i, rng)) for i in range(count)]

    def link(self, *references: str) -> None:
        """Make the references one network."""
        for ref in references:
            self.networks[ref] = references

    def dossier(self, subject_reference: str, *, network: bool = False) -> SubjectDossier:
        """The held dossier; with `network`, its network members as linked subjects."""
        found = self.dossiers.get(subject_reference)
        if found is None:
            raise NotFoundError(f"no subject {subject_reference!r}")
        if not network:
            return found
        members = tuple(
            LinkedSubject(
                ref, self.dossiers[ref].display_name, "shared image", 0.9, "same list entry"
            )
            for ref in self.networks.get(subject_reference, ())
            if ref != subject_reference and ref in self.dossiers
        )
        return replace(found, linked=members)
