"""The JSON export of a case report: the same counts as the HTML report, plus every field."""

from __future__ import annotations

import json
from typing import TextIO

from safeguard.domain.cases import AuditEvent, Exhibit, ScanRun
from safeguard.reporting.contract import (
    STATUS_ORDER,
    CaseReport,
    ExhibitReport,
    result_record,
)


def _exhibit_record(exhibit: Exhibit) -> dict[str, object]:
    return {
        "reference": exhibit.reference,
        "source_path": exhibit.source_path,
        "kind": exhibit.kind.value,
        "acquisition_hash": exhibit.acquisition_hash,
        "acquisition_verified": exhibit.acquisition_verified,
        "manifest_sha256": exhibit.manifest_sha256,
        "registered_at": exhibit.created_at.isoformat(),
    }


def _run_record(run: ScanRun) -> dict[str, object]:
    return {
        "run": run.run_id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "state": run.state.value,
        "examiner": run.examiner,
        "tool_version": run.tool_version,
        "files_recorded": run.files_recorded,
        "lists": [{"name": v.name, "kind": v.kind.value, "version": v.version} for v in run.lists],
    }


def _audit_record(event: AuditEvent) -> dict[str, object]:
    return {
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "exhibit_id": event.exhibit_id,
        "detail": dict(event.detail),
    }


def _section(section: ExhibitReport) -> dict[str, object]:
    record = _exhibit_record(section.exhibit)
    record.update(
        complete=section.complete,
        total=section.total,
        counts={s.value: section.counts.get(s, 0) for s in STATUS_ORDER},
        category_counts=dict(section.category_counts),
        hidden_known_good=section.hidden_known_good,
        grade_counts=dict(section.grade_counts),
        runs=[_run_record(r) for r in section.runs],
        files=[result_record(r) for r in section.results],
    )
    return record


def report_document(report: CaseReport) -> dict[str, object]:
    """The whole report as one JSON-ready mapping."""
    case = report.case
    return {
        "report": {
            "generated_at": report.generated_at.isoformat(),
            "generated_by": report.generated_by,
            "tool": f"safeguard {report.tool_version}",
        },
        "case": {
            "number": case.number,
            "examiner": case.examiner,
            "description": case.description,
            "opened_at": case.created_at.isoformat(),
        },
        "counts": {s.value: n for s, n in report.counts.items()},
        "category_counts": report.category_counts,
        "grade_counts": report.grade_counts,
        "hash_lists": [
            {"name": v.name, "kind": v.kind.value, "version": v.version}
            for v in report.list_versions
        ],
        "exhibits": [_section(s) for s in report.exhibits],
        "audit": [_audit_record(e) for e in report.audit],
    }


class JsonReportRenderer:
    """Writes `report_document` as indented UTF-8 JSON."""

    name = "json"
    suffix = ".json"
    media_type = "application/json"

    def render(self, report: CaseReport, stream: TextIO) -> None:
        """Write the report to a text stream."""
        json.dump(report_document(report), stream, indent=2, ensure_ascii=False)
        stream.write("\n")
