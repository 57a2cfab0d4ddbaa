"""What an intelligence package says: a versioned, serialisable content model.

A package's content is plain data. `PackageContent.canonical_json()` is the one byte form
that is hashed (SHA-256) and stored for every version, so any version can be read back and
checked against the hash recorded when it was issued. Content never holds an image: the
evidence table carries hashes, lists, categories and distances only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

CONTENT_SCHEMA = "safeguard.package/1"
"""Schema tag written into every version; readers refuse tags they do not know."""

RISK_BANDS = ("Very High", "High", "Medium", "Low")
"""Risk bands, most urgent first (the intelligence core's prioritisation bands)."""

HANDLING_CONDITIONS_DEFAULT = (
    "Handling code C: lawful sharing permitted with conditions. Do not disseminate further "
    "without the originator's consent; sanitise before any onward sharing."
)


@dataclass(frozen=True, slots=True)
class IdentifierLine:
    """One identifier of the subject (email, phone, screen name, IP with time, ...)."""

    kind: str
    value: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Location:
    """Where the subject is believed to live, as the routing used it."""

    postcode: str = ""
    address: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class LinkedSubject:
    """A subject linked to this one, with how and how strongly."""

    reference: str
    display_name: str
    link_kind: str
    weight: float
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class ReferralLine:
    """One referral with its 3x5x2 grading (source 1-3, intelligence A-E, handling P/C)."""

    reference: str
    source: str
    received_at: str
    source_evaluation: str
    intelligence_assessment: str
    handling_code: str
    conditions: str = ""
    summary: str = ""

    @property
    def grading(self) -> str:
        """The combined grade as written on intelligence reports, e.g. ``1AP``."""
        return f"{self.source_evaluation}{self.intelligence_assessment}{self.handling_code}"


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One known image, by hash only: list, version, category, distance, first and last seen."""

    algorithm: str
    digest: str
    list_name: str
    list_version: str
    category: str
    distance: int | None
    first_seen: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """A device already examined: its forensic case and exhibit, and what was found."""

    case_number: str
    exhibit_reference: str
    description: str = ""
    known_bad: int = 0


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """One factor of the risk band: its contribution and why (advice; a person decides)."""

    name: str
    contribution: float
    reason: str
    source_tool: str = ""


@dataclass(frozen=True, slots=True)
class Risk:
    """The subject's band with every factor; `override_reason` set when an analyst overrode."""

    band: str
    computed_band: str
    factors: tuple[RiskFactor, ...] = ()
    override_reason: str = ""


@dataclass(frozen=True, slots=True)
class Handling:
    """The package's handling code: C when any referral is C, with all their conditions."""

    code: str
    conditions: tuple[str, ...] = ()

    @property
    def conditional(self) -> bool:
        """True for handling code C, whose conditions go on every page."""
        return self.code == "C"

    @property
    def banner(self) -> str:
        """The text printed at the top of every page."""
        if not self.conditional:
            return "Handling code P: lawful sharing permitted."
        return " ".join((HANDLING_CONDITIONS_DEFAULT, *self.conditions))


@dataclass(frozen=True, slots=True)
class PackageContent:
    """Everything a package says, for one version.

    Attributes:
        subject_reference: the subject's reference in the intelligence core.
        display_name: how the package names the subject.
        identifiers: the subject's identifiers.
        location: the location routing used.
        destination: force key or desk the package is for.
        routing_note: how the destination was chosen (postcode, override with reason, ...).
        linked: linked subjects (a network package lists its members here).
        referrals: each referral with its grading.
        evidence: known images by hash (never an image).
        devices: devices already examined.
        risk: band with every factor.
        recommended_action: what the national unit recommends the force does.
        urgency: the deadline the band sets, in words.
        handling: handling code and conditions.
        notes: free text from the analyst.
        network: True when built for the subject's whole linked network.
    """

    subject_reference: str
    display_name: str
    identifiers: tuple[IdentifierLine, ...]
    location: Location
    destination: str
    routing_note: str
    linked: tuple[LinkedSubject, ...]
    referrals: tuple[ReferralLine, ...]
    evidence: tuple[EvidenceLine, ...]
    devices: tuple[DeviceLine, ...]
    risk: Risk
    recommended_action: str
    urgency: str
    handling: Handling
    notes: str = ""
    network: bool = False
    schema: str = field(default=CONTENT_SCHEMA)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples as lists)."""
        return asdict(self)

    def canonical_json(self) -> bytes:
        """The exact bytes hashed and stored: sorted keys, no spaces, UTF-8."""
        return json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    def sha256(self) -> str:
        """SHA-256 of `canonical_json`, hex."""
        return hashlib.sha256(self.canonical_json()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PackageContent:
        """Read back what `to_dict` wrote.

        Raises:
            ValueError: an unknown schema tag or a malformed document.
        """
        if data.get("schema") != CONTENT_SCHEMA:
            raise ValueError(f"unknown package schema {data.get('schema')!r}")
        risk = data["risk"]
        handling = data["handling"]
        return cls(
            subject_reference=data["subject_reference"],
            display_name=data["display_name"],
            identifiers=tuple(IdentifierLine(**i) for i in data["identifiers"]),
            location=Location(**data["location"]),
            destination=data["destination"],
            routing_note=data["routing_note"],
            linked=tuple(LinkedSubject(**x) for x in data["linked"]),
            referrals=tuple(ReferralLine(**x) for x in data["referrals"]),
            evidence=tuple(EvidenceLine(**x) for x in data["evidence"]),
            devices=tuple(DeviceLine(**x) for x in data["devices"]),
            risk=Risk(
                band=risk["band"],
                computed_band=risk["computed_band"],
                factors=tuple(RiskFactor(**f) for f in risk["factors"]),
                override_reason=risk.get("override_reason", ""),
            ),
            recommended_action=data["recommended_action"],
            urgency=data["urgency"],
            handling=Handling(handling["code"], tuple(handling["conditions"])),
            notes=data.get("notes", ""),
            network=bool(data.get("network", False)),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> PackageContent:
        """Parse `canonical_json` output."""
        return cls.from_dict(json.loads(raw))


def handling_for(referrals: tuple[ReferralLine, ...]) -> Handling:
    """The strictest handling of the referrals: C (with every condition) if any is C."""
    conditions = tuple(
        dict.fromkeys(r.conditions for r in referrals if r.handling_code == "C" and r.conditions)
    )
    if any(r.handling_code == "C" for r in referrals):
        return Handling("C", conditions)
    return Handling("P")
