"""RAR archives through rarfile.

rarfile parses RAR 4 and RAR 5 headers in Python, so members are always listed (encrypted ones
flagged); reading compressed content needs an external ``unrar``, ``unar``, ``7z`` or ``bsdtar``
tool. Without one, each compressed member is reported with a clear error instead of content.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO

from safeguard.domain.errors import EvidenceError
from safeguard.domain.evidence import ExtractedFile
from safeguard.domain.extras import import_extra
from safeguard.extraction.archive_guards import (
    ExpansionBudget,
    archive_error_item,
    member_path,
    with_error,
)
from safeguard.extraction.contract import EvidenceItem, EvidenceSource, ExtractionLimits
from safeguard.extraction.streams import guarded


@functools.cache
def _missing_tool_error() -> str | None:
    """Why compressed RAR content cannot be read, or None; looked up once per process."""
    rarfile = import_extra("rarfile", "forensics", "RAR archives")
    try:
        rarfile.tool_setup()
    except rarfile.RarCannotExec:
        return "no unrar, unar, 7z or bsdtar tool installed; compressed RAR content not read"
    return None


class RarReader:
    """RAR archives through `rarfile`: headers are parsed in Python, content needs an unrar tool."""

    name = "rar"

    def detect(self, source: EvidenceSource) -> bool:
        """RAR 4 or RAR 5 signature."""
        return source.head(7) == b"Rar!\x1a\x07\x00" or source.head(8) == b"Rar!\x1a\x07\x01\x00"

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Members in stored order; without an unrar tool, compressed members carry an error."""
        rarfile = import_extra("rarfile", "forensics", "RAR archives")
        assert source.opener is not None
        tool_error = _missing_tool_error()
        with source.opener() as raw:
            try:
                archive = rarfile.RarFile(raw)
            except rarfile.NeedFirstVolume as exc:
                yield archive_error_item(source, f"multi-volume RAR needs its first volume: {exc}")
                return
            except rarfile.PasswordRequired:
                yield archive_error_item(
                    source, "encrypted RAR headers; members not listed", encrypted=True
                )
                return
            except (rarfile.Error, OSError, EOFError, ValueError) as exc:
                yield archive_error_item(source, f"corrupt rar archive: {exc}")
                return
            budget = ExpansionBudget(limits)
            members = archive.infolist()
            if not members:
                yield archive_error_item(source, "no members found in rar archive (damaged?)")
            for index, info in enumerate(members):
                if info.is_dir():
                    continue
                yield self._member(archive, info, index, source, budget, tool_error)

    def _member(
        self,
        archive: Any,
        info: Any,
        index: int,
        source: EvidenceSource,
        budget: ExpansionBudget,
        tool_error: str | None,
    ) -> EvidenceItem:
        import rarfile

        path, original, error = member_path(source.label, str(info.filename))
        modified = info.mtime if isinstance(info.mtime, datetime) and info.mtime.tzinfo else None
        size = int(info.file_size)
        base = ExtractedFile(
            path=path,
            size=size,
            modified=modified,
            address=str(index),
            original_name=original,
            error=error,
        )
        if info.needs_password():
            return EvidenceItem(
                with_error(base, "encrypted member; content not readable", encrypted=True)
            )
        if tool_error is not None and info.compress_type != rarfile.RAR_M0:
            return EvidenceItem(with_error(base, tool_error))
        refused = budget.refuse(size, int(info.compress_size))
        if refused is not None:
            return EvidenceItem(with_error(base, refused))
        label = path

        @contextmanager
        def opener() -> Iterator[BinaryIO]:
            try:
                inner = archive.open(info)
            except (rarfile.Error, OSError, ValueError) as exc:
                raise EvidenceError(f"{label}: cannot open member ({exc})") from exc
            with guarded(inner, label, limit=size) as stream:
                yield stream

        return EvidenceItem(base, opener=opener)
