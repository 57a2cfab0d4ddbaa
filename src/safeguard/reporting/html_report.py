"""The HTML case report: one self-contained file (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

from typing import TextIO

from jinja2 import Environment, PackageLoader, select_autoescape

from safeguard.domain.cases import FileResult
from safeguard.reporting.contract import STATUS_ORDER, CaseReport, frame_time, match_summary

_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}


def _listing_order(result: FileResult) -> tuple[int, str]:
    return (_STATUS_RANK[result.status], result.path)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("safeguard.reporting", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["listing"] = lambda results: sorted(results, key=_listing_order)
    env.filters["match_summary"] = match_summary
    env.filters["frame_time"] = frame_time
    env.filters["when"] = lambda value: value.isoformat(timespec="seconds") if value else ""
    return env


class HtmlReportRenderer:
    """Renders `templates/case_report.html.j2`; every value is HTML-escaped."""

    name = "html"
    suffix = ".html"
    media_type = "text/html"

    def __init__(self) -> None:
        self._template = _environment().get_template("case_report.html.j2")

    def render(self, report: CaseReport, stream: TextIO) -> None:
        """Write the report to a text stream."""
        stream.write(
            self._template.render(
                report=report, statuses=STATUS_ORDER, thumbnails=report.thumbnails
            )
        )
