"""The CSV export: one row per listed file, every exhibit of the case in one table."""

from __future__ import annotations

import csv
from typing import TextIO

from safeguard.reporting.contract import CaseReport, match_summary

COLUMNS = (
    "case",
    "exhibit",
    "path",
    "status",
    "category_scheme",
    "category_code",
    "category_label",
    "size",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "media_type",
    "modified",
    "accessed",
    "created",
    "changed",
    "deleted",
    "error",
    "matches",
    "frame_seconds",
    "video_frames",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A leading =, +, - or @ would run as a formula in a spreadsheet (CSV injection).
    if text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text


class CsvReportRenderer:
    """Writes the file listing as RFC 4180 CSV with a header row."""

    name = "csv"
    suffix = ".csv"
    media_type = "text/csv"

    def render(self, report: CaseReport, stream: TextIO) -> None:
        """Write the report to a text stream."""
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for section in report.exhibits:
            for r in section.results:
                category = r.category
                uncategorised = category.is_uncategorised
                writer.writerow(
                    _cell(v)
                    for v in (
                        report.case.number,
                        section.exhibit.reference,
                        r.path,
                        r.status.value,
                        None if uncategorised else category.scheme,
                        None if uncategorised else category.code,
                        None if uncategorised else category.label,
                        r.size,
                        r.md5,
                        r.sha1,
                        r.sha256,
                        r.pdq,
                        r.pdq_quality,
                        r.media_type,
                        r.modified,
                        r.accessed,
                        r.created,
                        r.changed,
                        "yes" if r.deleted else "no",
                        r.error,
                        match_summary(r),
                        r.frame_seconds,
                        r.video_frames,
                    )
                )
