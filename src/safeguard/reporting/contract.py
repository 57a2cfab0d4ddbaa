"""The report model, the renderer contract and the registry of built-in renderers.

A report is built by the case-report service from stored results and handed to a renderer,
which only formats it: counts are computed here, once, so every format agrees.
Images are never part of a report unless the caller asked for thumbnails, and then only
small, strongly blurred ones that the service made (`CaseReport.thumbnails`).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TextIO, runtime_checkable

from safeguard.domain.cases import (
    AuditEvent,
    Case,
    Exhibit,
    FileResult,
    FileStatus,
    ListVersion,
    ScanRun,
    match_as_record,
)
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.hash_lists import Category

STATUS_ORDER: tuple[FileStatus, ...] = (
    FileStatus.KNOWN_BAD,
    FileStatus.UNKNOWN_IMAGE,
    FileStatus.UNKNOWN_VIDEO,
    FileStatus.OTHER,
    FileStatus.ERROR,
    FileStatus.KNOWN_GOOD,
)
"""The order statuses appear in every report: what needs attention first."""


def category_key(result: FileResult) -> str:
    """How a known-bad file's category is counted: ``scheme code: label``, or uncategorised."""
    cat = result.category
    if cat.is_uncategorised:
        return "Uncategorised"
    return f"{cat.scheme} {cat.code}: {cat.label}"


@dataclass(frozen=True, slots=True)
class ExhibitReport:
    """One exhibit (device) in a report.

    Attributes:
        exhibit: the exhibit with its integrity hashes.
        runs: its scan runs, oldest first (start/end, examiner, tool and list versions).
        results: the file listing, in path order; known-good files only when asked for.
        counts: results per status over *all* files, hidden ones included.
        category_counts: known-bad files per category key (see `category_key`).
        hidden_known_good: how many known-good files the listing leaves out.
        grade_counts: examiner review: items per current grade label.
        graded: examiner review: path -> the category of the item's current grade.
    """

    exhibit: Exhibit
    runs: Sequence[ScanRun]
    results: Sequence[FileResult]
    counts: Mapping[FileStatus, int]
    category_counts: Mapping[str, int]
    hidden_known_good: int = 0
    grade_counts: Mapping[str, int] = field(default_factory=dict)
    graded: Mapping[str, Category] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Files recorded for the exhibit."""
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        """True when the latest run finished."""
        return bool(self.runs) and self.runs[-1].finished_at is not None


@dataclass(frozen=True, slots=True)
class CaseReport:
    """Everything a case report shows.

    Attributes:
        case: the case.
        exhibits: one section per exhibit.
        audit: the case's audit events, oldest first (the chain of custody).
        generated_at, generated_by, tool_version: who made this report, when, with what.
        thumbnails: (exhibit id, path) -> base64 JPEG of a blurred thumbnail; empty unless
            the examiner asked for thumbnails.
    """

    case: Case
    exhibits: Sequence[ExhibitReport]
    audit: Sequence[AuditEvent]
    generated_at: datetime
    generated_by: str
    tool_version: str
    thumbnails: Mapping[tuple[int, str], str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[FileStatus, int]:
        """Results per status over every exhibit."""
        total: Counter[FileStatus] = Counter()
        for section in self.exhibits:
            total.update(section.counts)
        return {status: total.get(status, 0) for status in STATUS_ORDER}

    @property
    def category_counts(self) -> dict[str, int]:
        """Known-bad files per category over every exhibit."""
        total: Counter[str] = Counter()
        for section in self.exhibits:
            total.update(section.category_counts)
        return dict(sorted(total.items()))

    @property
    def grade_counts(self) -> dict[str, int]:
        """Examiner grades per label over every exhibit."""
        total: Counter[str] = Counter()
        for section in self.exhibits:
            total.update(section.grade_counts)
        return dict(sorted(total.items()))

    @property
    def list_versions(self) -> list[ListVersion]:
        """Every hash list and version any run used, sorted by name then version."""
        seen = {lv for section in self.exhibits for run in section.runs for lv in run.lists}
        return sorted(seen, key=lambda lv: (lv.name, lv.version, lv.kind.value))


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def result_record(result: FileResult) -> dict[str, object]:
    """A JSON-ready mapping of one file result (the JSON export's ``files`` items)."""
    return {
        "path": result.path,
        "status": result.status.value,
        "category": None
        if result.category.is_uncategorised
        else {
            "scheme": result.category.scheme,
            "code": result.category.code,
            "label": result.category.label,
        },
        "size": result.size,
        "md5": result.md5,
        "sha1": result.sha1,
        "sha256": result.sha256,
        "pdq": result.pdq,
        "pdq_quality": result.pdq_quality,
        "media_type": result.media_type,
        "modified": _time(result.modified),
        "accessed": _time(result.accessed),
        "created": _time(result.created),
        "changed": _time(result.changed),
        "deleted": result.deleted,
        "error": result.error,
        "frame_seconds": result.frame_seconds,
        "video_frames": result.video_frames,
        "matches": [match_as_record(m) for m in result.matches],
    }


def match_summary(result: FileResult) -> str:
    """One line per file naming each match: list, version, entry, algorithm, distance, quality."""
    parts = []
    for m in result.matches:
        text = f"{m.list_name}"
        if m.list_version:
            text += f" v{m.list_version}"
        text += f" #{m.entry_id} {m.algorithm.value}"
        if not m.is_exact:
            text += f" d={m.distance}/{m.threshold}"
            if m.query_quality is not None:
                text += f" q={m.query_quality}"
            if m.variant != "original":
                text += f" ({m.variant})"
        if m.frame_seconds is not None:
            text += f" at {frame_time(m.frame_seconds)}"
        parts.append(text)
    return "; ".join(parts)


def frame_time(seconds: float) -> str:
    """A video frame's time as ``m:ss.s`` (``h:mm:ss.s`` from an hour), e.g. ``0:03.0``."""
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}:{minutes:02d}:{rest:04.1f}"
    return f"{minutes}:{rest:04.1f}"


@runtime_checkable
class ReportRenderer(Protocol):
    """Formats a `CaseReport` as text.

    Attributes:
        name: the ``--format`` name.
        suffix: file-name suffix, with the dot.
        media_type: MIME type of the output.
    """

    name: str
    suffix: str
    media_type: str

    def render(self, report: CaseReport, stream: TextIO) -> None:
        """Write the report to a text stream."""
        ...


_BUILT_IN: dict[str, str] = {
    "html": "safeguard.reporting.html_report:HtmlReportRenderer",
    "json": "safeguard.reporting.json_export:JsonReportRenderer",
    "csv": "safeguard.reporting.csv_export:CsvReportRenderer",
}


def renderer_names() -> list[str]:
    """Names of the report renderers, sorted."""
    return sorted(_BUILT_IN)


def renderer_named(name: str) -> ReportRenderer:
    """The renderer registered under `name`, imported on first use.

    Raises:
        ConfigurationError: no renderer has that name.
    """
    target = _BUILT_IN.get(name)
    if target is None:
        raise ConfigurationError(
            f"no report format {name!r}; choose from {', '.join(renderer_names())}"
        )
    module_name, class_name = target.split(":")
    renderer_class = getattr(importlib.import_module(module_name), class_name)
    renderer: ReportRenderer = renderer_class()
    return renderer
