"""Open an exhibit of any supported kind and walk it, expanding archives found inside.

`open_exhibit` is the one entry point the scan pipeline needs. It detects the exhibit kind
by content (a folder, an archive, a raw or split raw disk image, an E01 set, or a single
file), yields every file inside, and when a file is itself an archive (by content) yields it
and then its members, to `ExtractionLimits.max_depth`, with the container chain in the path.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import IO, BinaryIO

from safeguard.domain.errors import EvidenceError, MissingExtraError
from safeguard.domain.evidence import ExtractedFile
from safeguard.domain.extras import import_extra
from safeguard.extraction import archives, ewf, folder, split_raw
from safeguard.extraction.contract import (
    EvidenceItem,
    EvidenceReader,
    EvidenceSource,
    ExhibitKind,
    ExtractionLimits,
)
from safeguard.extraction.disk_signatures import looks_like_disk
from safeguard.extraction.streams import NonClosingStream, open_local_file

ARCHIVE_READERS: tuple[EvidenceReader, ...] = archives.ARCHIVE_READERS
"""Readers tried, in order, on every file to see whether it is a container to expand."""

_SPLIT_FIRST = re.compile(r"\.0*1$")
_HEAD_BYTES = 4096
_ARCHIVE_SNIFF_BYTES = 512


def detect_exhibit_kind(path: Path) -> ExhibitKind:
    """What `path` is, judged by content (split raw sets are also recognised by ``.001``).

    Raises:
        EvidenceError: the path does not exist or cannot be read.
    """
    if path.is_dir():
        return ExhibitKind.FOLDER
    source = _file_source(path)
    if not path.is_file():
        raise EvidenceError(f"exhibit not found or not a regular file: {path.name}")
    if ewf.EwfReader().detect(source):
        return ExhibitKind.EWF
    if any(reader.detect(source) for reader in ARCHIVE_READERS):
        return ExhibitKind.ARCHIVE
    if looks_like_disk(source.head(_HEAD_BYTES + 1024)):
        if _SPLIT_FIRST.search(path.name) and len(split_raw.split_segments(path)) > 1:
            return ExhibitKind.SPLIT_RAW
        return ExhibitKind.RAW_DISK
    return ExhibitKind.FILE


def open_exhibit(path: Path, limits: ExtractionLimits | None = None) -> Iterator[EvidenceItem]:
    """Walk every file in the exhibit at `path`, in a stable order.

    Bad content inside never raises: it comes back as items with ``error`` set. Paths are
    unique within the exhibit (a repeated path gets `` (#address)`` or `` (#n)`` appended).

    Args:
        path: a folder, archive, raw/split raw disk image (first segment), E01 (first
            segment), or a single file.
        limits: bomb and nesting guards; defaults to `ExtractionLimits()`.

    Raises:
        EvidenceError: at call time, when `path` does not exist or cannot be read at all.
    """
    limits = limits or ExtractionLimits()
    kind = detect_exhibit_kind(path)
    return _walk_exhibit(path, kind, limits)


def exhibit_label(path: Path) -> str:
    """The first part of every path inside the exhibit: its file or folder name."""
    return path.name or path.resolve().name or str(path)


def _file_source(path: Path) -> EvidenceSource:
    return EvidenceSource(
        label=exhibit_label(path), opener=lambda: open_local_file(path), path=path
    )


def _top_level_items(
    path: Path, kind: ExhibitKind, limits: ExtractionLimits
) -> Iterator[EvidenceItem]:
    if kind is ExhibitKind.FOLDER:
        yield from folder.FolderReader().iter_items(
            EvidenceSource(label=exhibit_label(path), path=path), limits
        )
        return
    source = _file_source(path)
    if kind is ExhibitKind.EWF:
        yield from _unless_extra_missing(source, lambda: ewf.EwfReader().iter_items(source, limits))
    elif kind in (ExhibitKind.RAW_DISK, ExhibitKind.SPLIT_RAW):
        yield from _unless_extra_missing(source, lambda: _disk_image_items(source, limits))
    else:
        # A single file or an archive: the file itself (an archive is then expanded like
        # any archive found inside an exhibit, its members at depth 1).
        yield folder.file_item(path, source.label)


def _disk_image_items(source: EvidenceSource, limits: ExtractionLimits) -> Iterator[EvidenceItem]:
    import_extra("pytsk3", "forensics", "disk images")
    from safeguard.extraction import disk_images

    yield from disk_images.DiskImageReader().iter_items(source, limits)


def _unless_extra_missing(
    source: EvidenceSource, items: Callable[[], Iterator[EvidenceItem]]
) -> Iterator[EvidenceItem]:
    """The reader's items; an error item naming the extra when its engine is not installed."""
    try:
        yield from items()
    except MissingExtraError as exc:
        yield EvidenceItem(ExtractedFile(path=source.label + "/", size=0, error=str(exc)))


def _walk_exhibit(
    path: Path, kind: ExhibitKind, limits: ExtractionLimits
) -> Iterator[EvidenceItem]:
    seen: set[str] = set()
    yield from _with_nested(_top_level_items(path, kind, limits), limits, seen)


def _with_nested(
    items: Iterator[EvidenceItem], limits: ExtractionLimits, seen: set[str]
) -> Iterator[EvidenceItem]:
    for raw_item in items:
        item = _unique(raw_item, seen)
        if not _is_archive(item):
            yield item
            continue
        if item.depth >= limits.max_depth:
            yield item.with_error(
                f"archive not expanded: nesting depth limit ({limits.max_depth}) reached"
            )
            continue
        yield item
        with _nested_source(item, limits) as (source, spool_error):
            if source is None:
                yield _container_error(item, spool_error or "archive could not be read")
                continue
            members = _expand(source, limits, item.depth + 1, deleted=item.deleted)
            yield from _with_nested(members, limits, seen)


def _expand(
    source: EvidenceSource, limits: ExtractionLimits, depth: int, *, deleted: bool
) -> Iterator[EvidenceItem]:
    """Members of the archive `source`, marked with `depth` (and deleted if the archive is)."""
    source = replace(source, depth=depth)
    for reader in ARCHIVE_READERS:
        if reader.detect(source):
            members = _unless_extra_missing(source, partial(reader.iter_items, source, limits))
            for member in members:
                if deleted and not member.deleted:
                    member = replace(member, file=replace(member.file, deleted=True))
                yield replace(member, depth=depth)
            return


def _unique(item: EvidenceItem, seen: set[str]) -> EvidenceItem:
    path = item.path
    if path in seen:
        suffix = item.file.address or "1"
        candidate = f"{path} (#{suffix})"
        counter = 1
        while candidate in seen:
            counter += 1
            candidate = f"{path} (#{suffix}.{counter})"
        path = candidate
        item = replace(item, file=replace(item.file, path=path))
    seen.add(path)
    return item


def _is_archive(item: EvidenceItem) -> bool:
    if item.opener is None or item.file.encrypted or item.file.link_target is not None:
        return False
    source = EvidenceSource(label=item.path, opener=item.opener, path=item.local_path)
    # One short read rules out nearly every file before the readers look closer.
    if not archives.may_be_archive(source.head(_ARCHIVE_SNIFF_BYTES)):
        return False
    return any(reader.detect(source) for reader in ARCHIVE_READERS)


def _container_error(item: EvidenceItem, error: str) -> EvidenceItem:
    return EvidenceItem(
        file=ExtractedFile(path=f"{item.path}/", size=0, deleted=item.deleted, error=error),
        depth=item.depth + 1,
    )


@contextmanager
def _nested_source(
    item: EvidenceItem, limits: ExtractionLimits
) -> Iterator[tuple[EvidenceSource | None, str | None]]:
    """A random-access source over an archive item's content.

    Plain local files are opened directly; anything else (a member of another archive, a file
    inside a disk image) is copied once to a private spool, bounded by the expansion limit,
    because archive formats seek back and forth and compressed parents cannot seek cheaply.
    """
    if item.local_path is not None:
        local = item.local_path
        yield (
            EvidenceSource(
                label=item.path, opener=lambda: open_local_file(local), path=local, depth=item.depth
            ),
            None,
        )
        return
    with tempfile.SpooledTemporaryFile(max_size=limits.spool_memory_bytes) as spool:
        error = _copy_bounded(item, spool, limits.max_expanded_bytes)
        if error is not None:
            yield None, error
            return
        spool_stream: BinaryIO = spool  # type: ignore[assignment]

        @contextmanager
        def reopen() -> Iterator[BinaryIO]:
            spool_stream.seek(0)
            yield NonClosingStream(spool_stream)  # type: ignore[misc]

        yield EvidenceSource(label=item.path, opener=reopen, depth=item.depth), None


def _copy_bounded(item: EvidenceItem, target: IO[bytes], limit: int) -> str | None:
    try:
        with item.open() as stream:
            copied = 0
            while chunk := stream.read(1024 * 1024):
                copied += len(chunk)
                if copied > limit:
                    return f"archive larger than the expansion limit ({limit} bytes); not expanded"
                target.write(chunk)
    except (EvidenceError, OSError, EOFError, ValueError, RuntimeError) as exc:
        return f"archive could not be read: {exc}"
    return None


__all__ = ["ARCHIVE_READERS", "detect_exhibit_kind", "open_exhibit"]
