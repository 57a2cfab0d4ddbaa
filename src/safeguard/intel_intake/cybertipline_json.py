"""CyberTipline-shaped JSON: one report object, a list of them, or ``{"reports": [...]}``.

The keys are the CyberTipline element names, as in the XML; repeated elements are lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from safeguard.intel_intake.contract import ReadItem, ReadOptions, Refusal
from safeguard.intel_intake.cybertipline import ReportError, referral_from_report


class CyberTiplineJsonReader:
    """Reads CyberTipline-shaped report JSON."""

    name = "cybertipline-json"

    def detect(self, head: bytes, path: Path) -> bool:
        """JSON whose first bytes mention ``incidentSummary`` or ``reports``."""
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return text[:1] in (b"{", b"[") and (b'"incidentSummary"' in head or b'"reports"' in head)

    def read(self, path: Path, options: ReadOptions) -> Iterator[ReadItem]:
        """Each report, as a referral or a refusal."""
        source = str(path)
        try:
            data = json.loads(path.read_text("utf-8-sig"))
        except OSError as exc:
            yield Refusal(source, "", f"cannot read the file: {exc.strerror or exc}")
            return
        except UnicodeDecodeError as exc:
            yield Refusal(source, f"byte {exc.start}", "not UTF-8 text")
            return
        except json.JSONDecodeError as exc:
            yield Refusal(source, f"line {exc.lineno}, column {exc.colno}", f"not JSON ({exc.msg})")
            return
        reports: Any
        if isinstance(data, dict) and "reports" in data:
            reports = data["reports"]
        elif isinstance(data, dict):
            reports = [data]
        else:
            reports = data
        if not isinstance(reports, list) or not reports:
            yield Refusal(source, "reports", "expected a report or a non-empty list of reports")
            return
        for index, report in enumerate(reports, start=1):
            path_text = f"reports[{index}]"
            if not isinstance(report, dict):
                yield Refusal(source, path_text, "a report must be an object")
                continue
            try:
                yield referral_from_report(report, path_text, options, f"{path.name}#{index}")
            except ReportError as exc:
                yield Refusal(source, exc.element, exc.reason)
