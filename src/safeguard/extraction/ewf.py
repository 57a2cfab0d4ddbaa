"""EWF (EnCase E01/Ex01) exhibits through libewf-python (`pyewf`).

All segments (``.E01``, ``.E02``, ...) are found with ``pyewf.glob`` from the first one. The
media is read as a disk image by `safeguard.extraction.disk_images`. `verify_ewf` re-reads
the whole media and compares its MD5/SHA-1 with the acquisition hashes stored in the image,
so the case record can say ``verified``, ``mismatch`` or ``not stored``; `read_ewf_metadata`
returns the stored values and case headers without reading the media.

Segment files are opened here (read-only, without touching access times where the system
allows) and handed to libewf as file objects. A truncated or unopenable set yields an error
item (``<name>/``) instead of files. Every chunk a read touches is checked against its stored
checksum first (`safeguard.extraction.ewf_chunks`; libewf returns damaged bytes silently): a
file stored on a damaged or missing chunk fails with an error naming the chunk, and the walk
goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from safeguard.domain.errors import EvidenceError
from safeguard.domain.evidence import ExtractedFile
from safeguard.domain.extras import import_extra
from safeguard.extraction.contract import EvidenceItem, EvidenceSource, ExtractionLimits
from safeguard.extraction.ewf_chunks import EwfChunkTable, open_chunk_table
from safeguard.extraction.streams import open_read_only

EWF_MAGICS = (b"EVF\x09\x0d\x0a\xff\x00", b"EVF2\r\n\x81\x00")
"""Signatures of EWF version 1 (E01) and 2 (Ex01) segment files."""

HEADER_NAMES = (
    "case_number",
    "evidence_number",
    "description",
    "examiner_name",
    "notes",
    "acquiry_date",
    "system_date",
    "acquiry_software",
    "acquiry_software_version",
    "acquiry_operating_system",
    "model",
    "serial_number",
)


class AcquisitionHashStatus(StrEnum):
    """Outcome of checking the media against the hashes stored at acquisition."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    NOT_STORED = "not stored"
    UNREADABLE = "unreadable"
    DAMAGED = "damaged"


@dataclass(frozen=True, slots=True)
class EwfMetadata:
    """What an EWF set says about itself (no media read).

    Attributes:
        segments: segment file names, in order.
        media_size: size of the acquired media in bytes.
        stored_md5, stored_sha1: acquisition hashes stored in the set (lower-case hex) or None.
        headers: case headers that are present (case_number, examiner_name, ...).
    """

    segments: tuple[str, ...]
    media_size: int
    stored_md5: str | None
    stored_sha1: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EwfVerification:
    """The result of `verify_ewf`.

    Attributes:
        status: verified, mismatch, not stored, or unreadable.
        metadata: the set's stored values; None when the set could not be opened.
        computed_md5, computed_sha1: hashes of the media as read now (None if not computed).
        bytes_read: media bytes hashed.
        error: what went wrong when status is unreadable or damaged.
        damaged_chunks: each chunk that fails its checksum, in words naming the chunk.
    """

    status: AcquisitionHashStatus
    metadata: EwfMetadata | None
    computed_md5: str | None = None
    computed_sha1: str | None = None
    bytes_read: int = 0
    error: str | None = None
    damaged_chunks: tuple[str, ...] = ()


class _OpenSet:
    """An opened EWF set: the pyewf handle, its segment files and their chunk table.

    Segments are opened here (read-only, ``O_NOATIME`` where granted) and handed to libewf as
    file objects, so libewf never opens evidence itself; the chunk checks read through
    descriptors of their own.
    """

    def __init__(self, first_segment: Path) -> None:
        pyewf = import_extra("pyewf", "forensics", "E01 images")
        self.files: list[BinaryIO] = []
        self.descriptors: list[int] = []
        try:
            self.segments = [Path(name) for name in pyewf.glob(str(first_segment))]
            for segment in self.segments:
                self.files.append(os.fdopen(open_read_only(segment), "rb"))
                self.descriptors.append(open_read_only(segment))
            self.handle: Any = pyewf.handle()
            self.handle.open_file_objects(self.files)
            self.media_size = int(self.handle.get_media_size())
            self.chunks = open_chunk_table(
                self.descriptors,
                [segment.name for segment in self.segments],
                int(self.handle.get_chunk_size()),
                self.media_size,
            )
        except (OSError, RuntimeError, TypeError, ValueError, struct.error) as exc:
            self.close()
            raise EvidenceError(f"EWF set cannot be opened (truncated or damaged?): {exc}") from exc

    def close(self) -> None:
        """Close the handle and every segment file (idempotent)."""
        handle = getattr(self, "handle", None)
        if handle is not None:
            with contextlib.suppress(OSError, RuntimeError):
                handle.close()
            self.handle = None
        for stream in self.files:
            stream.close()
        for descriptor in self.descriptors:
            os.close(descriptor)
        self.files, self.descriptors = [], []


@contextmanager
def _open_set(first_segment: Path) -> Iterator[_OpenSet]:
    opened = _OpenSet(first_segment)
    try:
        yield opened
    finally:
        opened.close()


def _stored_hash(handle: Any, name: str) -> str | None:
    try:
        value = handle.get_hash_value(name)
    except (OSError, KeyError, RuntimeError):
        return None
    return value.strip().lower() if value else None


def _metadata(handle: Any, segments: list[str]) -> EwfMetadata:
    headers: dict[str, str] = {}
    for name in HEADER_NAMES:
        try:
            value = handle.get_header_value(name)
        except (OSError, KeyError, RuntimeError):
            value = None
        if value:
            headers[name] = value
    return EwfMetadata(
        segments=tuple(Path(segment).name for segment in segments),
        media_size=int(handle.get_media_size()),
        stored_md5=_stored_hash(handle, "MD5"),
        stored_sha1=_stored_hash(handle, "SHA1"),
        headers=headers,
    )


def read_ewf_metadata(first_segment: Path) -> EwfMetadata:
    """Stored hashes and case headers of the EWF set starting at `first_segment`.

    Raises:
        EvidenceError: the set cannot be opened.
    """
    with _open_set(first_segment) as opened:
        return _metadata(opened.handle, [str(segment) for segment in opened.segments])


def verify_ewf(
    first_segment: Path,
    *,
    chunk_size: int = 4 * 1024 * 1024,
    on_progress: Callable[[int, int], None] | None = None,
) -> EwfVerification:
    """Re-hash the whole media, check every chunk, and compare with the stored hashes.

    Never raises for bad evidence: an unopenable or unreadable set gives status
    ``unreadable`` with the reason; chunks that fail their checksum give ``damaged`` (even
    when the stored hash happens to match) and are named in ``damaged_chunks``.

    Args:
        first_segment: the ``.E01`` (or ``.Ex01``) file.
        chunk_size: bytes per read.
        on_progress: called with ``(bytes_read, media_size)`` after each chunk.
    """
    try:
        opened = _OpenSet(first_segment)
    except EvidenceError as exc:
        return EwfVerification(AcquisitionHashStatus.UNREADABLE, None, error=str(exc))
    try:
        handle = opened.handle
        metadata = _metadata(handle, [str(segment) for segment in opened.segments])
        checker = _ChunkChecker(opened.chunks)
        md5, sha1 = hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False)
        done = 0
        handle.seek(0)
        try:
            while done < metadata.media_size:
                want = min(chunk_size, metadata.media_size - done)
                checker.damage(done, want)
                chunk = handle.read(want)
                if not chunk:
                    raise OSError(f"media ends early at offset {done}")
                md5.update(chunk)
                sha1.update(chunk)
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done, metadata.media_size)
        except (OSError, RuntimeError) as exc:
            return EwfVerification(
                AcquisitionHashStatus.UNREADABLE,
                metadata,
                bytes_read=done,
                error=_unreadable_reason(opened, done, exc),
                damaged_chunks=checker.damaged(),
            )
    finally:
        opened.close()
    computed_md5, computed_sha1 = md5.hexdigest(), sha1.hexdigest()
    checks = [
        stored == computed
        for stored, computed in (
            (metadata.stored_md5, computed_md5),
            (metadata.stored_sha1, computed_sha1),
        )
        if stored is not None
    ]
    damaged = checker.damaged()
    if damaged:
        status = AcquisitionHashStatus.DAMAGED
    elif not checks:
        status = AcquisitionHashStatus.NOT_STORED
    else:
        status = AcquisitionHashStatus.VERIFIED if all(checks) else AcquisitionHashStatus.MISMATCH
    return EwfVerification(
        status,
        metadata,
        computed_md5,
        computed_sha1,
        bytes_read=done,
        error=f"{len(damaged)} damaged chunk(s): {damaged[0]}" if damaged else None,
        damaged_chunks=damaged,
    )


def _unreadable_reason(opened: _OpenSet, offset: int, exc: Exception) -> str:
    """Why the media cannot be read, in words first and libewf's last message after."""
    libewf = str(exc).rstrip(". ").rsplit(". ", 1)[-1]
    diagnosis = opened.chunks.diagnosis() if opened.chunks is not None else None
    where = f"media unreadable from byte {offset}"
    return f"{diagnosis} ({where}; {libewf})" if diagnosis else f"{where}: {libewf}"


class _ChunkChecker:
    """Checks each chunk of an EWF v1 set once, remembering the damaged ones."""

    def __init__(self, table: EwfChunkTable | None) -> None:
        self._table = table
        self._checked: set[int] = set()
        self._damaged: dict[int, str] = {}

    def damage(self, offset: int, size: int) -> str | None:
        """Why the media bytes ``offset .. offset+size`` touch a damaged chunk, or None."""
        table = self._table
        if table is None or size <= 0 or not table.chunk_size:
            return None
        first = offset // table.chunk_size
        last = min(offset + size - 1, table.media_size - 1) // table.chunk_size
        reason = None
        for index in range(first, last + 1):
            if index not in self._checked:
                self._checked.add(index)
                problem = table.check(index)
                if problem is not None:
                    self._damaged[index] = problem
            reason = reason or self._damaged.get(index)
        return reason

    def damaged(self) -> tuple[str, ...]:
        """Every damaged chunk met so far, in chunk order."""
        return tuple(self._damaged[index] for index in sorted(self._damaged))


class _HandleStream:
    """The binary-stream calls TSK's image adapter needs, over a pyewf handle.

    A read touching a chunk that fails its checksum raises `EvidenceError` naming the chunk
    (libewf itself would return the damaged bytes), so the image adapter records the region
    as unreadable and every file stored there fails with that reason.
    """

    def __init__(self, handle: Any, chunks: EwfChunkTable | None) -> None:
        self._handle = handle
        self._checker = _ChunkChecker(chunks)

    def seek(self, offset: int, whence: int = 0) -> int:
        self._handle.seek(offset, whence)
        return int(self._handle.get_offset())

    def read(self, size: int = -1) -> bytes:
        problem = self._checker.damage(int(self._handle.get_offset()), size)
        if problem is not None:
            raise EvidenceError(problem)
        data: bytes = self._handle.read(size)
        return data


class EwfReader:
    """EnCase/EWF images (E01 and Ex01 segment sets) as disk images."""

    name = "ewf"

    def detect(self, source: EvidenceSource) -> bool:
        """An EWF segment signature at the start."""
        head = source.head(8)
        return any(head.startswith(magic) for magic in EWF_MAGICS)

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Files in the media; needs the set on this machine (``source.path``)."""
        if source.path is None:
            yield _error(source, "an EWF image inside another container is not expanded")
            return
        try:
            opened = _OpenSet(source.path)
        except EvidenceError as exc:
            yield _error(source, str(exc))
            return
        try:
            try:
                opened.handle.seek(0)
                opened.handle.read(512)
            except (OSError, RuntimeError) as exc:
                # EWF v1 writes each chunk table after its chunks: a truncated segment
                # loses the tables, and with them every chunk before the cut.
                yield _error(source, f"EWF set unreadable: {_unreadable_reason(opened, 0, exc)}")
                return
            import_extra("pytsk3", "forensics", "E01 images")
            from safeguard.extraction.disk_images import walk_stream

            stream = _HandleStream(opened.handle, opened.chunks)
            yield from walk_stream(stream, opened.media_size, source.label)  # type: ignore[arg-type]
        finally:
            opened.close()


def _error(source: EvidenceSource, error: str) -> EvidenceItem:
    return EvidenceItem(ExtractedFile(path=source.label + "/", size=0, error=error))
