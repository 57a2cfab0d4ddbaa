"""CyberTipline-shaped XML: one ``<report>`` or a container of many, read as a stream.

Elements become nested dictionaries for `cybertipline.referral_from_report` (namespaces
dropped; an element's attributes and text become keys, text as ``value``, which is how
``<originalFileHash hashType="MD5">`` reads). Files declaring a DOCTYPE or entities are
refused whole: reports never need them and entity expansion is an attack.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from safeguard.intel_intake.contract import ReadItem, ReadOptions, Refusal
from safeguard.intel_intake.cybertipline import ReportError, referral_from_report

_PROLOG_LIMIT = 16 * 1024 * 1024
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_ROOT_START = re.compile(rb"<[A-Za-z_]")


def prolog_problem(path: Path) -> str | None:
    """Why the file's prolog (everything before the root element) is refused, if it is.

    A DOCTYPE or an entity declaration anywhere before the root is refused (comments are
    skipped, so one cannot hide the root's start), as is a prolog beyond 16 MiB.
    """
    with path.open("rb") as handle:
        head = handle.read(_PROLOG_LIMIT)
    visible = _COMMENT.sub(b"", head)
    root = _ROOT_START.search(visible)
    prolog = visible[: root.start()] if root else visible
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        return "DOCTYPE and entity declarations are not accepted"
    if root is None and len(head) == _PROLOG_LIMIT:
        return "no root element in the first 16 MiB"
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_to_dict(element: ET.Element) -> Any:
    """An element as text (a leaf without attributes) or a dictionary of its children."""
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip()
    out: dict[str, Any] = {_local(k): v for k, v in element.attrib.items()}
    if not children:
        out["value"] = (element.text or "").strip()
        return out
    for child in children:
        name = _local(child.tag)
        value = element_to_dict(child)
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    return out


class CyberTiplineXmlReader:
    """Reads CyberTipline-shaped report XML."""

    name = "cybertipline-xml"

    def detect(self, head: bytes, path: Path) -> bool:
        """XML whose first bytes mention a ``report`` element."""
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return text.startswith(b"<") and b"<report" in head

    def read(self, path: Path, options: ReadOptions) -> Iterator[ReadItem]:
        """Each ``report`` element, as a referral or a refusal."""
        source = str(path)
        try:
            problem = prolog_problem(path)
        except OSError as exc:
            yield Refusal(source, "", f"cannot read the file: {exc.strerror or exc}")
            return
        if problem is not None:
            yield Refusal(source, "", problem)
            return
        count = 0
        depth = 0
        root_is_report = False
        try:
            for event, element in ET.iterparse(source, events=("start", "end")):
                if event == "start":
                    if depth == 0:
                        root_is_report = _local(element.tag) == "report"
                    depth += 1
                    continue
                depth -= 1
                is_report = _local(element.tag) == "report" and (
                    depth == 1 or (depth == 0 and root_is_report)
                )
                if not is_report:
                    continue
                count += 1
                path_text = f"report[{count}]"
                report = element_to_dict(element)
                element.clear()
                yield self._one(report, path_text, source, options, count)
        except ET.ParseError as exc:
            line, column = exc.position
            reason = str(exc).split(":", 1)[0]
            yield Refusal(
                source, f"line {line}, column {column}", f"not well-formed XML ({reason})"
            )
            return
        if count == 0:
            yield Refusal(source, "", "no <report> element found")

    @staticmethod
    def _one(report: Any, path: str, source: str, options: ReadOptions, index: int) -> ReadItem:
        if not isinstance(report, dict):
            return Refusal(source, path, "the report has no elements")
        try:
            return referral_from_report(report, path, options, f"{Path(source).name}#{index}")
        except ReportError as exc:
            return Refusal(source, exc.element, exc.reason)
