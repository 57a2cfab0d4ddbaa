"""Disk images (raw/dd, split raw, and any stream such as an EWF handle) through The Sleuth Kit.

pytsk3 reads the partition table (MBR, GPT, BSD, Mac) and the file systems TSK knows (FAT,
exFAT, NTFS, ext2/3/4, HFS+, ISO9660, ...). Without a partition table the image is read as a
bare file system at offset 0.

Paths: ``<image>/partition N/<dir>/<file>``, where N counts the allocated partitions in table
order from 1; a bare file system has no ``partition N`` part. Deleted entries (name or
metadata unallocated, or inside a deleted directory) are yielded with ``deleted=True`` and
their content as TSK can still read it. TSK's virtual files (``$MBR``, ``$FAT1``, ...) and the
NTFS system files in the root (``$MFT``, ``$LogFile``, ``$Extend``, ...) are not yielded;
``$OrphanFiles`` is, since it holds deleted files whose directory is gone. NTFS alternate data
streams are not read (only the default ``$DATA``).

The stream adapters (and how unreadable sectors are handled) live in
`safeguard.extraction.tsk_image`.

Times come from TSK metadata as UTC. FAT stores local wall-clock time without a zone and TSK
converts it with this machine's time zone; the reader undoes that conversion, so FAT times
carry the on-disk wall-clock value labelled UTC, with ``local_times=True``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO

import pytsk3

from safeguard.domain.evidence import CONTAINER_SEPARATOR, ExtractedFile
from safeguard.extraction.contract import EvidenceItem, EvidenceSource, ExtractionLimits
from safeguard.extraction.disk_signatures import looks_like_disk
from safeguard.extraction.split_raw import SplitRawStream, split_segments
from safeguard.extraction.streams import open_local_file
from safeguard.extraction.tsk_image import (
    READ_CHUNK,
    TSK_ERRORS,
    ImageVolume,
    StreamImage,
    TskFileStream,
)

_FAT_TYPES = frozenset(
    {
        pytsk3.TSK_FS_TYPE_FAT12,
        pytsk3.TSK_FS_TYPE_FAT16,
        pytsk3.TSK_FS_TYPE_FAT32,
        pytsk3.TSK_FS_TYPE_EXFAT,
    }
)
_FAT_LABEL_SUFFIX = "(Volume Label Entry)"
"""TSK lists a FAT volume label as a file with this suffix; it is not a file."""


def _time(seconds: int, nanoseconds: int, local: bool) -> datetime | None:
    if not seconds:
        return None
    if local:
        # TSK turned the FAT wall-clock value into epoch seconds with this machine's zone;
        # converting back with the same zone recovers the wall-clock value on disk.
        return datetime.fromtimestamp(seconds).replace(tzinfo=UTC, microsecond=nanoseconds // 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanoseconds // 1000)


def _error_item(path: str, error: str) -> EvidenceItem:
    return EvidenceItem(ExtractedFile(path=path, size=0, error=error))


def iter_disk_items(image: StreamImage, label: str) -> Iterator[EvidenceItem]:
    """Every file in every readable file system of `image`, partitions in table order.

    Unreadable regions that no file read was blamed for (partition tables, file-system
    metadata, or blocks TSK read ahead) are reported once, on ``label/``, after the last
    file; a file whose blocks are unreadable fails its own read instead.
    """
    yield from _iter_volumes(image, label)
    unexplained = [index for index in range(len(image.unreadable)) if index not in image.blamed]
    if unexplained:
        offset, _ = image.unreadable[unexplained[0]]
        yield _error_item(
            label + "/",
            f"{len(unexplained)} unreadable region(s) of the image, first at byte {offset} "
            f"({image.reasons[unexplained[0]]}), read as zeros and not part of any file read "
            "(partition tables, file-system metadata or unallocated space); listings may be "
            "incomplete",
        )


def _iter_volumes(image: StreamImage, label: str) -> Iterator[EvidenceItem]:
    try:
        volume = pytsk3.Volume_Info(image)
    except TSK_ERRORS:
        volume = None
    if volume is None:
        try:
            file_system = pytsk3.FS_Info(image, offset=0)
        except TSK_ERRORS as exc:
            yield _error_item(label + "/", f"no partition table or file system recognised ({exc})")
            return
        yield from _walk_file_system(
            file_system, label, ImageVolume(image, 0, file_system.info.block_size)
        )
        return
    number = 0
    block_size = volume.info.block_size
    for partition in volume:
        if partition.flags != pytsk3.TSK_VS_PART_FLAG_ALLOC:
            continue
        number += 1
        part_label = f"{label}/partition {number}"
        offset = partition.start * block_size
        try:
            file_system = pytsk3.FS_Info(image, offset=offset)
        except TSK_ERRORS as exc:
            description = partition.desc.decode("utf-8", "replace")
            yield _error_item(
                part_label + "/", f"file system not recognised or corrupt ({description}): {exc}"
            )
            continue
        volume_info = ImageVolume(image, offset, file_system.info.block_size)
        yield from _walk_file_system(file_system, part_label, volume_info)


def _walk_file_system(file_system: Any, label: str, volume: ImageVolume) -> Iterator[EvidenceItem]:
    local = file_system.info.ftype in _FAT_TYPES
    ntfs = file_system.info.ftype == pytsk3.TSK_FS_TYPE_NTFS
    try:
        root = file_system.open_dir(path="/")
    except TSK_ERRORS as exc:
        yield _error_item(label + "/", f"file system root unreadable (corrupt?): {exc}")
        return
    visited: set[int] = {root.info.fs_file.meta.addr} if root.info.fs_file.meta else set()
    stack: list[tuple[Iterator[tuple[str, Any]], str, bool]] = [
        (iter(_sorted_entries(root)), label, False)
    ]
    while stack:
        entries, directory_path, parent_deleted = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name, handle = entry
        if ntfs and directory_path == label and name.startswith("$") and name != "$OrphanFiles":
            continue
        path = f"{directory_path}{CONTAINER_SEPARATOR}{name}"
        deleted = parent_deleted or bool(handle.info.name.flags & pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
        handle = _with_metadata(file_system, handle)
        meta = handle.info.meta
        if meta is None:
            if deleted:
                yield EvidenceItem(
                    ExtractedFile(
                        path=path, size=0, deleted=True, error="deleted entry; metadata lost"
                    )
                )
            continue
        deleted = deleted or bool(meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC)
        if meta.type in (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR):
            if meta.addr in visited:
                continue
            visited.add(meta.addr)
            try:
                children = _sorted_entries(handle.as_directory())
            except TSK_ERRORS as exc:
                yield _error_item(path + "/", f"directory unreadable: {exc}")
                continue
            orphans = name == "$OrphanFiles"
            stack.append((iter(children), path, deleted or orphans))
            continue
        if meta.type == pytsk3.TSK_FS_META_TYPE_VIRT or name.endswith(_FAT_LABEL_SUFFIX):
            continue
        if deleted and not meta.size and directory_path.endswith("/$OrphanFiles"):
            continue  # an unused metadata entry TSK lists as an orphan: nothing to read
        yield _file_item(handle, meta, path, deleted, local, volume)


def _with_metadata(file_system: Any, handle: Any) -> Any:
    """The entry, with its metadata loaded by address when the directory walk left it out.

    TSK does not attach metadata to a name whose MFT record is no longer in use (a deleted
    NTFS file); opening the record by its address recovers it when it is still there.
    """
    if handle.info.meta is not None:
        return handle
    address = handle.info.name.meta_addr
    try:
        reopened = file_system.open_meta(inode=address)
    except TSK_ERRORS:
        return handle
    return reopened if reopened.info.meta is not None else handle


def _sorted_entries(directory: Any) -> list[tuple[str, Any]]:
    entries = []
    for handle in directory:
        raw = handle.info.name.name
        name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        if name in (".", ".."):
            continue
        address = handle.info.meta.addr if handle.info.meta is not None else -1
        entries.append((name, address, handle))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [(name, handle) for name, _, handle in entries]


def _file_item(
    handle: Any, meta: Any, path: str, deleted: bool, local: bool, volume: ImageVolume
) -> EvidenceItem:
    size = int(meta.size)
    error = None
    if deleted and meta.flags & pytsk3.TSK_FS_META_FLAG_ALLOC:
        error = "deleted name whose metadata is reused; content may belong to another file"
    link_target = None
    if meta.type == pytsk3.TSK_FS_META_TYPE_LNK:
        link_target = (
            (meta.link or b"").decode("utf-8", "replace")
            if isinstance(meta.link, bytes)
            else str(meta.link or "")
        )
    elif meta.type != pytsk3.TSK_FS_META_TYPE_REG:
        error = "special file (device, fifo, socket); not read"
    extracted = ExtractedFile(
        path=path,
        size=size,
        modified=_time(meta.mtime, getattr(meta, "mtime_nano", 0), local),
        accessed=_time(meta.atime, getattr(meta, "atime_nano", 0), local),
        created=_time(meta.crtime, getattr(meta, "crtime_nano", 0), local),
        changed=_time(meta.ctime, getattr(meta, "ctime_nano", 0), local),
        deleted=deleted,
        error=error,
        address=str(meta.addr),
        link_target=link_target,
        local_times=local,
    )
    if link_target is not None or meta.type != pytsk3.TSK_FS_META_TYPE_REG:
        return EvidenceItem(extracted)

    @contextmanager
    def opener() -> Iterator[BinaryIO]:
        # Unbuffered: reads go straight to TSK, so a short read (a content sniff) costs only
        # the bytes asked for; `readinto` fills whole requests, as callers of read(n) expect.
        with TskFileStream(handle, size, path, volume) as stream:
            yield stream  # type: ignore[misc]

    return EvidenceItem(extracted, opener=opener)


def walk_stream(stream: BinaryIO, size: int, label: str) -> Iterator[EvidenceItem]:
    """Every file in the disk image held by `stream` (kept open by the caller)."""
    yield from iter_disk_items(StreamImage(stream, size), label)


class DiskImageReader:
    """Raw (dd) and split raw disk images: a partition table or a bare file system."""

    name = "disk-image"

    def detect(self, source: EvidenceSource) -> bool:
        """A partition table or file-system boot record at the start."""
        return looks_like_disk(source.head(4096))

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Files of every partition; a split set is read from all its segments."""
        opener: Callable[[], Any]
        if source.path is not None:
            segments = split_segments(source.path)
            if len(segments) > 1:
                opener = lambda: _closing(SplitRawStream(segments))  # noqa: E731
            else:
                path = source.path
                opener = lambda: open_local_file(path)  # noqa: E731
        elif source.opener is not None:
            opener = source.opener
        else:
            return
        try:
            with opener() as stream:
                size = stream.seek(0, io.SEEK_END)
                stream.seek(0)
                yield from walk_stream(stream, size, source.label)
        except TSK_ERRORS as exc:
            yield _error_item(source.label + "/", f"disk image unreadable: {exc}")


@contextmanager
def _closing(stream: io.RawIOBase) -> Iterator[BinaryIO]:
    with io.BufferedReader(stream, READ_CHUNK) as buffered:
        yield buffered
