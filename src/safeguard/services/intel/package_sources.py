"""The intelligence core as the package builder's `DossierSource`.

A subject reference is the core's subject id (``"12"``, or ``"S12"``). The location is the
subject's latest postcode identifier (with its postal address), and the country the latest
referral's estimated location gives; known images come from the referrals' files as matched
on intake (hashes only), devices from the forensic exhibits attached to the subject.
"""

from __future__ import annotations

from dataclasses import replace

from safeguard.domain.errors import NotFoundError
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.referrals import Referral
from safeguard.domain.package_content import (
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
from safeguard.services.intel.subjects import SubjectRecord, SubjectService

_LOCATION_KINDS = {IdentifierKind.POSTCODE, IdentifierKind.POSTAL_ADDRESS}


def subject_id_of(reference: str) -> int:
    """The core's subject id for a package's subject reference.

    Raises:
        NotFoundError: not a subject id.
    """
    digits = reference.strip().upper().removeprefix("S").removeprefix("-")
    if not digits.isdigit():
        raise NotFoundError(f"no subject {reference!r}")
    return int(digits)


def _location(record: SubjectRecord) -> Location:
    postcode = next(
        (i.value for i in reversed(record.identifiers) if i.kind is IdentifierKind.POSTCODE), ""
    )
    address = next(
        (i.value for i in reversed(record.identifiers) if i.kind is IdentifierKind.POSTAL_ADDRESS),
        "",
    )
    country = next(
        (
            r.location.country_code
            for r in reversed(record.referrals)
            if r.location and r.location.country_code
        ),
        "",
    )
    return Location(postcode=postcode, address=address, country=country)


def _evidence(referrals: tuple[Referral, ...]) -> tuple[EvidenceLine, ...]:
    seen: dict[tuple[str, str, str], list[str]] = {}
    lines: dict[tuple[str, str, str], EvidenceLine] = {}
    for referral in referrals:
        day = referral.received_at.date().isoformat()
        for file in referral.files:
            for match in file.known_matches:
                digest = file.hashes.get(match.algorithm, match.entry_id)
                key = (match.algorithm, digest, match.list_name)
                seen.setdefault(key, []).append(day)
                category = " ".join(
                    p for p in (match.category_scheme, match.category_code) if p and p != "none"
                )
                lines.setdefault(
                    key,
                    EvidenceLine(
                        algorithm=match.algorithm,
                        digest=digest,
                        list_name=match.list_name,
                        list_version=match.list_version,
                        category=category or "uncategorised",
                        distance=match.distance if match.algorithm == "pdq" else None,
                        first_seen=day,
                        last_seen=day,
                    ),
                )
    out = []
    for key, line in lines.items():
        days = sorted(seen[key])
        out.append(replace(line, first_seen=days[0], last_seen=days[-1]))
    return tuple(out)


def _note(identifier: Identifier) -> str:
    parts = (
        identifier.service,
        identifier.observed_at.isoformat() if identifier.observed_at else "",
        f"port {identifier.port}" if identifier.port else "",
        identifier.detail,
    )
    return ", ".join(p for p in parts if p)


class IntelCoreDossiers:
    """`DossierSource` over the intelligence core's `SubjectService`."""

    def __init__(self, subjects: SubjectService) -> None:
        self._subjects = subjects

    def _label(self, subject_id: int) -> str:
        try:
            return self._subjects.store.subject(subject_id).label
        except NotFoundError:
            return f"subject {subject_id}"

    def dossier(self, subject_reference: str, *, network: bool = False) -> SubjectDossier:
        """The subject's record as a dossier; with `network`, every network member linked."""
        subject_id = subject_id_of(subject_reference)
        record = self._subjects.record(subject_id)
        priority = record.priority
        assessment = priority.assessment
        factors = tuple(
            RiskFactor(c.factor, float(c.points), c.reason, c.tool)
            # Every factor, absent ones with 0, so the force sees what was weighed.
            for c in (assessment.contributions if assessment else ())
        )
        override = priority.override
        weights: dict[int, tuple[float, str, str]] = {}
        for link in record.links:
            other = link.subject_b if link.subject_a == subject_id else link.subject_a
            if other not in weights or weights[other][0] < link.weight:
                weights[other] = (link.weight, link.kind.value, link.key)
        members = set(weights)
        if network:
            members |= set(record.network.members)
        members.discard(subject_id)
        linked = tuple(
            LinkedSubject(
                reference=str(member),
                display_name=self._label(member),
                link_kind=weights.get(member, (0.0, "network member", ""))[1],
                weight=weights.get(member, (0.0, "", ""))[0],
                evidence=weights.get(member, (0.0, "", f"network {record.network.network_id}"))[2],
            )
            for member in sorted(members)
        )
        return SubjectDossier(
            reference=str(subject_id),
            display_name=record.subject.label,
            identifiers=tuple(
                IdentifierLine(i.kind.value, i.value, _note(i))
                for i in record.identifiers
                if i.kind not in _LOCATION_KINDS
            ),
            location=_location(record),
            linked=linked,
            referrals=tuple(
                ReferralLine(
                    reference=f"{r.source.value}:{r.external_id}",
                    source=r.source.value,
                    received_at=r.received_at.date().isoformat(),
                    source_evaluation=r.grading.source.value,
                    intelligence_assessment=r.grading.intelligence.value,
                    handling_code=r.grading.handling.value,
                    conditions=r.grading.conditions,
                    summary="; ".join(
                        p
                        for p in (r.incident_type, r.escalation and f"escalated: {r.escalation}")
                        if p
                    ),
                )
                for r in record.referrals
            ),
            evidence=_evidence(record.referrals),
            devices=tuple(
                DeviceLine(
                    e.case_number,
                    e.exhibit_reference,
                    f"{e.files_examined} files examined",
                    e.known_bad_files,
                )
                for e in record.exhibits
            ),
            risk=Risk(
                band=priority.band.value,
                computed_band=priority.computed_band.value,
                factors=factors,
                override_reason=override.reason if override is not None else "",
            ),
        )
