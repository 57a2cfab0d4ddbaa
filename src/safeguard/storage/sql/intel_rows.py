"""Rows of the intelligence tables to and from domain objects (JSON for nested parts)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import RowMapping

from safeguard.domain.intel.grading import (
    Grading,
    HandlingCode,
    IntelligenceAssessment,
    SourceEvaluation,
)
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.links import Link, LinkKind, MergeRecord, Suppression
from safeguard.domain.intel.priority import Assessment, Band, Contribution, Override
from safeguard.domain.intel.referrals import (
    EstimatedLocation,
    FileMatch,
    Referral,
    ReferralFile,
    ReferralSource,
)
from safeguard.domain.intel.subjects import (
    IntelAuditEvent,
    Subject,
    SubjectExhibit,
    SubjectFacts,
    SubjectOrigin,
)


def aware(value: datetime | None) -> datetime | None:
    """`value` with UTC attached when the database handed back a naive time (SQLite)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def required(value: datetime | None) -> datetime:
    """`aware` for a column that is never NULL."""
    result = aware(value)
    assert result is not None
    return result


def _time_text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time_of(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def referral_body(referral: Referral) -> str:
    """Everything of a referral the columns do not hold, as JSON text."""
    body: dict[str, Any] = {
        "grading": [referral.grading.code, referral.grading.conditions],
        "incident_type": referral.incident_type,
        "escalation": referral.escalation,
        "annotations": list(referral.annotations),
        "reporter": referral.reporter,
        "person_name": referral.person_name,
        "location": asdict(referral.location) if referral.location else None,
        "identifiers": [
            [i.kind.value, i.value, i.service, _time_text(i.observed_at), i.port, i.detail]
            for i in referral.identifiers
        ],
        "files": [
            {
                "name": f.name,
                "hashes": dict(f.hashes),
                "industry": f.industry_classification,
                "annotations": list(f.annotations),
                "matches": [asdict(m) for m in f.matches],
            }
            for f in referral.files
        ],
        "prior_reports": list(referral.prior_reports),
        "additional_info": referral.additional_info,
    }
    return json.dumps(body, separators=(",", ":"))


def referral_of(row: RowMapping) -> Referral:
    """The referral a row of `intel_referrals` holds."""
    body = json.loads(row["body"])
    code, conditions = body["grading"]
    grading = Grading(
        SourceEvaluation(code[0]),
        IntelligenceAssessment(code[1]),
        HandlingCode(code[2]),
        conditions,
    )
    location = body.get("location")
    return Referral(
        source=ReferralSource(row["source"]),
        external_id=row["external_id"],
        content_key=row["content_key"],
        received_at=required(row["received_at"]),
        grading=grading,
        incident_type=body["incident_type"],
        incident_at=aware(row["incident_at"]),
        escalation=body["escalation"],
        annotations=tuple(body["annotations"]),
        reporter=body["reporter"],
        person_name=body["person_name"],
        location=EstimatedLocation(**location) if location else None,
        identifiers=tuple(
            Identifier(IdentifierKind(k), v, s, _time_of(t), p, d)
            for k, v, s, t, p, d in body["identifiers"]
        ),
        files=tuple(
            ReferralFile(
                name=f["name"],
                hashes=f["hashes"],
                industry_classification=f["industry"],
                annotations=tuple(f["annotations"]),
                matches=tuple(FileMatch(**m) for m in f["matches"]),
            )
            for f in body["files"]
        ),
        prior_reports=tuple(body["prior_reports"]),
        additional_info=body["additional_info"],
        subject_id=row["subject_id"],
        referral_id=row["id"],
    )


def facts_text(facts: SubjectFacts) -> str:
    """Subject facts as JSON text."""
    record = asdict(facts)
    record["recorded_at"] = _time_text(facts.recorded_at)
    return json.dumps(record, separators=(",", ":"))


def subject_of(row: RowMapping) -> Subject:
    """The subject a row of `intel_subjects` holds."""
    facts = json.loads(row["facts"])
    facts["recorded_at"] = _time_of(facts.get("recorded_at"))
    return Subject(
        label=row["label"],
        origin=SubjectOrigin(row["origin"]),
        created_at=required(row["created_at"]),
        created_by=row["created_by"],
        facts=SubjectFacts(**facts),
        merged_into=row["merged_into"],
        subject_id=row["id"],
    )


def exhibit_of(row: RowMapping) -> SubjectExhibit:
    """The attachment a row of `intel_exhibits` holds."""
    return SubjectExhibit(
        subject_id=row["subject_id"],
        case_number=row["case_number"],
        exhibit_reference=row["exhibit_reference"],
        files_examined=row["files_examined"],
        known_bad_files=row["known_bad_files"],
        attached_at=required(row["attached_at"]),
        attached_by=row["attached_by"],
        attachment_id=row["id"],
    )


def merge_of(row: RowMapping) -> MergeRecord:
    """The merge record a row of `intel_merges` holds."""
    return MergeRecord(
        survivor_id=row["survivor_id"],
        absorbed_id=row["absorbed_id"],
        by=row["actor"],
        at=required(row["at"]),
        reason=row["reason"],
        moved_referrals=tuple(json.loads(row["moved_referrals"])),
        moved_exhibits=tuple(json.loads(row["moved_exhibits"])),
        undone_by=row["undone_by"],
        undone_at=aware(row["undone_at"]),
        undone_reason=row["undone_reason"],
        merge_id=row["id"],
    )


def link_row(link: Link) -> dict[str, Any]:
    """Column values for a link."""
    return {
        "subject_a": link.subject_a,
        "subject_b": link.subject_b,
        "kind": link.kind.value,
        "key": link.key,
        "weight": link.weight,
        "evidence": json.dumps(list(link.evidence)),
        "provenance": link.provenance,
        "created_at": link.created_at,
        "created_by": link.created_by,
    }


def link_of(row: RowMapping) -> Link:
    """The link a row of `intel_links` holds."""
    return Link(
        subject_a=row["subject_a"],
        subject_b=row["subject_b"],
        kind=LinkKind(row["kind"]),
        key=row["key"],
        weight=row["weight"],
        evidence=tuple(json.loads(row["evidence"])),
        provenance=row["provenance"],
        created_at=required(row["created_at"]),
        created_by=row["created_by"],
        link_id=row["id"],
    )


def suppression_of(row: RowMapping) -> Suppression:
    """The suppression a row of `intel_suppressions` holds."""
    return Suppression(
        subject_a=row["subject_a"],
        subject_b=row["subject_b"],
        by=row["actor"],
        at=required(row["at"]),
        reason=row["reason"],
        lifted_by=row["lifted_by"],
        lifted_at=aware(row["lifted_at"]),
        suppression_id=row["id"],
    )


def contributions_text(contributions: tuple[Contribution, ...]) -> str:
    """Contributions as JSON text."""
    return json.dumps(
        [
            [c.factor, c.tool, c.points, c.reason, c.minimum_band.value if c.minimum_band else None]
            for c in contributions
        ],
        separators=(",", ":"),
    )


def assessment_of(row: RowMapping) -> Assessment:
    """The assessment a row of `intel_assessments` holds."""
    return Assessment(
        subject_id=row["subject_id"],
        band=Band(row["band"]),
        score=row["score"],
        contributions=tuple(
            Contribution(f, t, p, r, Band(m) if m else None)
            for f, t, p, r, m in json.loads(row["contributions"])
        ),
        rules_version=row["rules_version"],
        rules_digest=row["rules_digest"],
        computed_at=required(row["computed_at"]),
    )


def override_of(row: RowMapping) -> Override:
    """The override a row of `intel_overrides` holds."""
    return Override(
        subject_id=row["subject_id"],
        band=Band(row["band"]),
        computed_band=Band(row["computed_band"]),
        reason=row["reason"],
        by=row["actor"],
        at=required(row["at"]),
        cleared_by=row["cleared_by"],
        cleared_at=aware(row["cleared_at"]),
        override_id=row["id"],
    )


def audit_of(row: RowMapping) -> IntelAuditEvent:
    """The event a row of `intel_audit` holds."""
    return IntelAuditEvent(
        at=required(row["at"]),
        actor=row["actor"],
        action=row["action"],
        subject_id=row["subject_id"],
        detail=json.loads(row["detail"]),
        event_id=row["id"],
    )
