"""Folder exhibits: every file under a directory, never following links.

Symbolic links are recorded as such (with their target) and never followed, so nothing
outside the exhibit is read; FIFOs, sockets and devices are recorded but never opened (opening
a FIFO would block). Entries are visited in name order, directories depth first.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from safeguard.domain.evidence import CONTAINER_SEPARATOR, ExtractedFile
from safeguard.extraction.contract import EvidenceItem, EvidenceSource, ExtractionLimits
from safeguard.extraction.streams import open_local_file


def _utc(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds / 1e9, tz=UTC)


def file_item(real_path: Path, path: str, depth: int = 0) -> EvidenceItem:
    """Describe the plain file `real_path` (already known to exist), to be reported as `path`."""
    try:
        info = real_path.lstat()
    except OSError as exc:
        return EvidenceItem(ExtractedFile(path=path, size=0, error=f"cannot stat: {exc.strerror}"))
    return _item_from_stat(real_path, path, info, depth)


def _item_from_stat(real_path: Path, path: str, info: os.stat_result, depth: int) -> EvidenceItem:
    birth = getattr(info, "st_birthtime", None)
    times: dict[str, datetime | None] = {
        "modified": _utc(info.st_mtime_ns),
        "accessed": _utc(info.st_atime_ns),
        "changed": _utc(info.st_ctime_ns),
        "created": _utc(int(birth * 1e9)) if birth is not None else None,
    }
    address = str(info.st_ino)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(real_path)
        except OSError as exc:
            target = f"<unreadable: {exc.strerror}>"
        extracted = replace(_described(path, info.st_size, address, times), link_target=target)
        return EvidenceItem(extracted, depth=depth)
    if not stat.S_ISREG(info.st_mode):
        kind = _special_kind(info.st_mode)
        extracted = replace(
            _described(path, 0, address, times), error=f"special file ({kind}) not read"
        )
        return EvidenceItem(extracted, depth=depth)
    extracted = _described(path, info.st_size, address, times)
    return EvidenceItem(
        extracted, opener=lambda: open_local_file(real_path), depth=depth, local_path=real_path
    )


def _described(
    path: str, size: int, address: str, times: dict[str, datetime | None]
) -> ExtractedFile:
    return ExtractedFile(
        path=path,
        size=size,
        address=address,
        modified=times["modified"],
        accessed=times["accessed"],
        changed=times["changed"],
        created=times["created"],
    )


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "device"
    return "unknown type"


class FolderReader:
    """Reads a directory on this machine recursively (`os.scandir`, links not followed)."""

    name = "folder"

    def detect(self, source: EvidenceSource) -> bool:
        """True when the source is a real directory (not a link to one)."""
        return source.path is not None and source.path.is_dir() and not source.path.is_symlink()

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Every entry under the folder except directories themselves, in name order."""
        if source.path is None:
            return
        yield from self._walk(source.path, source.label, source.depth)

    def _walk(self, directory: Path, label: str, depth: int) -> Iterator[EvidenceItem]:
        try:
            with os.scandir(directory) as iterator:
                entries = sorted(iterator, key=lambda entry: entry.name)
        except OSError as exc:
            error = f"folder unreadable: {exc.strerror}"
            yield EvidenceItem(ExtractedFile(path=label + CONTAINER_SEPARATOR, size=0, error=error))
            return
        for entry in entries:
            path = label + CONTAINER_SEPARATOR + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                error = f"cannot stat: {exc.strerror}"
                yield EvidenceItem(ExtractedFile(path=path, size=0, error=error), depth=depth)
                continue
            if is_dir:
                yield from self._walk(Path(entry.path), path, depth)
            else:
                yield _item_from_stat(Path(entry.path), path, info, depth)
