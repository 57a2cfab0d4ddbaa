"""EWF (EnCase E01/Ex01) exhibits through libewf-python (`pyewf`).

All segments (``.E01``, ``.E02``, ...) are found with ``pyewf.glob`` from the first one. The
media is read as a disk image by `safeguard.extraction.disk_images`. `verify_ewf` re-reads
the whole media and compares its MD5/SHA-1 with the acquisition hashes stored in the image,
so the case record can say ``verified``, ``mismatch`` or ``not stored``; `read_ewf_metadata`
returns the stored values and case headers without reading the media.

A truncated or damaged set yields an error item (``<name>/``) instead of files; reads that
fail later (a missing chunk) fail the item being read, and the walk goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from safeguard.domain.errors import EvidenceError
from safeguard.domain.evidence import ExtractedFile
from safeguard.extraction.contract import EvidenceItem, EvidenceSource, ExtractionLimits
from safeguard.extraction.disk_images import walk_stream

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
        error: what went wrong when status is unreadable (or a partial read).
    """

    status: AcquisitionHashStatus
    metadata: EwfMetadata | None
    computed_md5: str | None = None
    computed_sha1: str | None = None
    bytes_read: int = 0
    error: str | None = None


def _open_handle(first_segment: Path) -> tuple[Any, list[str]]:
    import pyewf

    try:
        segments = pyewf.glob(str(first_segment))
        handle = pyewf.handle()
        handle.open(segments)
    except (OSError, RuntimeError, TypeError, ValueError) as exc:
        raise EvidenceError(f"EWF set cannot be opened (truncated or damaged?): {exc}") from exc
    return handle, list(segments)


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
    handle, segments = _open_handle(first_segment)
    try:
        return _metadata(handle, segments)
    finally:
        handle.close()


def verify_ewf(
    first_segment: Path,
    *,
    chunk_size: int = 4 * 1024 * 1024,
    on_progress: Callable[[int, int], None] | None = None,
) -> EwfVerification:
    """Re-hash the whole media and compare with the acquisition hashes stored in the set.

    Never raises for bad evidence: an unopenable or unreadable set gives status
    ``unreadable`` with the reason.

    Args:
        first_segment: the ``.E01`` (or ``.Ex01``) file.
        chunk_size: bytes per read.
        on_progress: called with ``(bytes_read, media_size)`` after each chunk.
    """
    try:
        handle, segments = _open_handle(first_segment)
    except EvidenceError as exc:
        return EwfVerification(AcquisitionHashStatus.UNREADABLE, None, error=str(exc))
    try:
        metadata = _metadata(handle, segments)
        md5, sha1 = hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False)
        done = 0
        handle.seek(0)
        try:
            while done < metadata.media_size:
                chunk = handle.read(min(chunk_size, metadata.media_size - done))
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
                error=f"media unreadable at offset {done}: {exc}",
            )
    finally:
        handle.close()
    computed_md5, computed_sha1 = md5.hexdigest(), sha1.hexdigest()
    checks = [
        stored == computed
        for stored, computed in (
            (metadata.stored_md5, computed_md5),
            (metadata.stored_sha1, computed_sha1),
        )
        if stored is not None
    ]
    if not checks:
        status = AcquisitionHashStatus.NOT_STORED
    else:
        status = AcquisitionHashStatus.VERIFIED if all(checks) else AcquisitionHashStatus.MISMATCH
    return EwfVerification(status, metadata, computed_md5, computed_sha1, bytes_read=done)


class _HandleStream:
    """The binary-stream calls TSK's image adapter needs, over a pyewf handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def seek(self, offset: int, whence: int = 0) -> int:
        self._handle.seek(offset, whence)
        return int(self._handle.get_offset())

    def read(self, size: int = -1) -> bytes:
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
            handle, _segments = _open_handle(source.path)
        except EvidenceError as exc:
            yield _error(source, str(exc))
            return
        with _closing(handle) as opened:
            try:
                size = int(opened.get_media_size())
                opened.seek(0)
                opened.read(512)
            except (OSError, RuntimeError) as exc:
                # EWF v1 writes each chunk table after its chunks: a truncated segment
                # loses the tables, and with them every chunk before the cut.
                yield _error(source, f"EWF media unreadable (truncated or damaged set?): {exc}")
                return
            yield from walk_stream(_HandleStream(opened), size, source.label)  # type: ignore[arg-type]


def _error(source: EvidenceSource, error: str) -> EvidenceItem:
    return EvidenceItem(ExtractedFile(path=source.label + "/", size=0, error=error))


@contextmanager
def _closing(handle: Any) -> Iterator[Any]:
    try:
        yield handle
    finally:
        handle.close()
