"""Plain records (JSON-ready dictionaries) of intelligence objects, for the CLI and the API.

One shape everywhere: `safeguard intel ... --json` prints what `/v1/intel/...` answers.
Records carry hashes and identifiers, never images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from safeguard.domain.intel.identifiers import Identifier
from safeguard.domain.intel.links import Link, MergeRecord
from safeguard.domain.intel.priority import Assessment, Contribution, Override
from safeguard.domain.intel.referrals import Referral, ReferralFile
from safeguard.domain.intel.subjects import IntelAuditEvent, Subject, SubjectExhibit

if TYPE_CHECKING:
    # Annotations only: the CLI imports this module at start-up, the services when run.
    from safeguard.services.intel.assessments import Priority
    from safeguard.services.intel.intake import IngestOutcome
    from safeguard.services.intel.links import Network
    from safeguard.services.intel.subjects import RankedSubject, SubjectRecord


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def subject_record(subject: Subject) -> dict[str, Any]:
    """A subject."""
    facts = subject.facts
    return {
        "id": subject.subject_id,
        "label": subject.label,
        "origin": subject.origin.value,
        "created_at": _time(subject.created_at),
        "created_by": subject.created_by,
        "merged_into": subject.merged_into,
        "facts": {
            "occupation": facts.occupation,
            "role_with_access_to_children": facts.role_with_access_to_children,
            "children_in_household": facts.children_in_household,
            "other_access_to_children": facts.other_access_to_children,
            "registered_sex_offender": facts.registered_sex_offender,
            "prior_sexual_convictions": facts.prior_sexual_convictions,
            "prior_other_convictions": facts.prior_other_convictions,
            "contact_offence_history": facts.contact_offence_history,
            "recorded_by": facts.recorded_by,
            "recorded_at": _time(facts.recorded_at),
        },
    }


def contribution_record(c: Contribution) -> dict[str, Any]:
    """One factor's contribution."""
    return {
        "factor": c.factor,
        "tool": c.tool,
        "points": c.points,
        "reason": c.reason,
        "minimum_band": c.minimum_band.value if c.minimum_band else None,
    }


def assessment_record(a: Assessment | None) -> dict[str, Any] | None:
    """A computed assessment with every factor."""
    if a is None:
        return None
    return {
        "band": a.band.value,
        "score": a.score,
        "rules_version": a.rules_version,
        "rules_digest": a.rules_digest,
        "computed_at": _time(a.computed_at),
        "factors": [contribution_record(c) for c in a.contributions],
    }


def override_record(o: Override) -> dict[str, Any]:
    """An analyst's override."""
    return {
        "id": o.override_id,
        "band": o.band.value,
        "computed_band": o.computed_band.value,
        "reason": o.reason,
        "by": o.by,
        "at": _time(o.at),
        "active": o.active,
        "cleared_by": o.cleared_by,
        "cleared_at": _time(o.cleared_at),
    }


def priority_record(p: Priority) -> dict[str, Any]:
    """The band in force, the computed band, the assessment and any active override."""
    return {
        "band": p.band.value,
        "computed_band": p.computed_band.value,
        "assessment": assessment_record(p.assessment),
        "override": override_record(p.override) if p.override else None,
    }


def ranked_record(row: RankedSubject) -> dict[str, Any]:
    """One row of the ranked list."""
    return {
        "id": row.subject.subject_id,
        "label": row.subject.label,
        "band": row.priority.band.value,
        "computed_band": row.priority.computed_band.value,
        "overridden": row.priority.override is not None,
        "score": row.priority.assessment.score if row.priority.assessment else 0,
        "referrals": row.referrals,
        "network_id": row.network_id,
        "network_size": row.network_size,
    }


def identifier_record(i: Identifier) -> dict[str, Any]:
    """An identifier."""
    return {
        "kind": i.kind.value,
        "value": i.value,
        "service": i.service or None,
        "observed_at": _time(i.observed_at),
        "port": i.port,
        "detail": i.detail or None,
        "key": i.key,
    }


def file_record(f: ReferralFile) -> dict[str, Any]:
    """A referral file: hashes and list matches, never content."""
    return {
        "name": f.name,
        "hashes": dict(f.hashes),
        "industry_classification": f.industry_classification or None,
        "annotations": list(f.annotations),
        "known": f.is_known,
        "first_generation": f.is_first_generation,
        "matches": [
            {
                "list": m.list_name,
                "list_version": m.list_version,
                "list_kind": m.list_kind,
                "entry_id": m.entry_id,
                "algorithm": m.algorithm,
                "distance": m.distance,
                "category": {
                    "scheme": m.category_scheme,
                    "code": m.category_code,
                    "label": m.category_label,
                },
            }
            for m in f.matches
        ],
    }


def referral_record(r: Referral) -> dict[str, Any]:
    """A referral with its grading, identifiers and files."""
    return {
        "id": r.referral_id,
        "source": r.source.value,
        "external_id": r.external_id,
        "content_key": r.content_key,
        "subject_id": r.subject_id,
        "received_at": _time(r.received_at),
        "incident_at": _time(r.incident_at),
        "incident_type": r.incident_type,
        "grading": {
            "code": r.grading.code,
            "source": r.grading.source.value,
            "intelligence": r.grading.intelligence.value,
            "handling": r.grading.handling.value,
            "conditions": r.grading.conditions or None,
            "description": r.grading.describe(),
        },
        "escalation": r.escalation or None,
        "annotations": list(r.annotations),
        "reporter": r.reporter,
        "person_name": r.person_name or None,
        "location": (
            {
                "city": r.location.city,
                "region": r.location.region,
                "country_code": r.location.country_code,
            }
            if r.location
            else None
        ),
        "identifiers": [identifier_record(i) for i in r.identifiers],
        "files": [file_record(f) for f in r.files],
        "prior_reports": list(r.prior_reports),
    }


def link_record(link: Link) -> dict[str, Any]:
    """A link with its evidence and provenance."""
    return {
        "id": link.link_id,
        "subjects": [link.subject_a, link.subject_b],
        "kind": link.kind.value,
        "key": link.key,
        "weight": link.weight,
        "evidence_referrals": list(link.evidence),
        "provenance": link.provenance,
        "created_at": _time(link.created_at),
        "created_by": link.created_by,
    }


def network_record(n: Network) -> dict[str, Any]:
    """A network: its members and the links among them."""
    return {
        "id": n.network_id,
        "members": list(n.members),
        "links": [link_record(link) for link in n.links],
    }


def merge_record(m: MergeRecord) -> dict[str, Any]:
    """A merge, with its undoing if split."""
    return {
        "id": m.merge_id,
        "survivor": m.survivor_id,
        "absorbed": m.absorbed_id,
        "by": m.by,
        "at": _time(m.at),
        "reason": m.reason,
        "moved_referrals": list(m.moved_referrals),
        "moved_exhibits": list(m.moved_exhibits),
        "active": m.active,
        "split_by": m.undone_by,
        "split_at": _time(m.undone_at),
        "split_reason": m.undone_reason,
    }


def exhibit_record(e: SubjectExhibit) -> dict[str, Any]:
    """An attached forensic exhibit."""
    return {
        "id": e.attachment_id,
        "case": e.case_number,
        "exhibit": e.exhibit_reference,
        "files_examined": e.files_examined,
        "known_bad_files": e.known_bad_files,
        "attached_at": _time(e.attached_at),
        "attached_by": e.attached_by,
    }


def audit_record(e: IntelAuditEvent) -> dict[str, Any]:
    """An audit event."""
    return {
        "id": e.event_id,
        "at": _time(e.at),
        "actor": e.actor,
        "action": e.action,
        "subject_id": e.subject_id,
        "detail": dict(e.detail),
    }


def full_subject_record(record: SubjectRecord) -> dict[str, Any]:
    """Everything about one subject."""
    return {
        "subject": subject_record(record.subject),
        "priority": priority_record(record.priority),
        "overrides": [override_record(o) for o in record.overrides],
        "identifiers": [identifier_record(i) for i in record.identifiers],
        "referrals": [referral_record(r) for r in record.referrals],
        "exhibits": [exhibit_record(e) for e in record.exhibits],
        "links": [link_record(link) for link in record.links],
        "network": network_record(record.network),
        "merges": [merge_record(m) for m in record.merges],
        "audit": [audit_record(e) for e in record.audit],
    }


def ingest_record(outcome: IngestOutcome) -> dict[str, Any]:
    """What an ingest did."""
    return {
        "added": len(outcome.added),
        "unchanged": len(outcome.unchanged),
        "refused": [
            {"source": r.source, "element": r.element, "reason": r.reason} for r in outcome.refused
        ],
        "subjects_created": outcome.subjects_created,
        "links": len(outcome.link_run.links) if outcome.link_run else None,
        "too_common": len(outcome.link_run.too_common) if outcome.link_run else None,
        "added_referrals": [
            {"id": r.referral_id, "external_id": r.external_id, "subject_id": r.subject_id}
            for r in outcome.added
        ],
    }
