"""The HTML case report: one self-contained file (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TextIO

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from safeguard.domain.cases import FileResult
from safeguard.reporting.contract import STATUS_ORDER, CaseReport, frame_time, match_summary

_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}


def _listing_order(result: FileResult) -> tuple[int, str]:
    return (_STATUS_RANK[result.status], result.path)


def human_time(value: datetime | None) -> str:
    """A time as people read it, with its zone: ``2026-11-29 10:00:00 UTC``.

    A time recorded with another offset keeps it (``UTC+01:00``); a naive one says so.
    """
    if value is None:
        return ""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    offset = value.utcoffset()
    if offset is None:
        return f"{text} (zone not recorded)"
    if offset == timedelta(0):
        return f"{text} UTC"
    sign = "+" if offset > timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text} UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def thousands(value: int | None) -> str:
    """An integer with thousands separators (``304`` -> ``304``, ``1234567`` -> ``1,234,567``)."""
    return "" if value is None else f"{value:,}"


def css_string(value: object) -> Markup:
    """Text made safe inside a double-quoted CSS string in a ``<style>`` element.

    Everything but letters, digits, spaces and plain punctuation becomes a CSS hex escape,
    so quotes, backslashes and ``</style>`` cannot end the string or the element.
    """
    out = []
    for ch in str(value):
        if ch.isascii() and (ch.isalnum() or ch in " .,:;_-/#()+"):
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return Markup("".join(out))


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
    env.filters["when"] = human_time
    env.filters["n"] = thousands
    env.filters["css_string"] = css_string
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
