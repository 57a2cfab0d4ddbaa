r"""Archive readers: zip (ZIP64 too), tar (plain or compressed), 7z, rar, single compressed files.

Single gzip/bzip2/xz files that are not tar archives are read as one member.

Each reader yields the archive's members in the order the archive stores them. Every one
applies the same guards from `ExtractionLimits`:

* declared sizes are checked before anything is read (total expanded bytes, member count,
  expanded/compressed ratio), and bytes actually read are bounded again while streaming, so
  a member whose header lies still stops at the limit;
* member names are normalised (``\\`` is a separator; ``..``, ``.``, empty parts, leading
  ``/`` and drive letters are dropped); a name with ``..`` or an absolute path is reported
  as an error with its ``original_name`` and its content is still readable;
* an encrypted member is yielded with ``encrypted=True`` and no content, never skipped.

Nothing is ever written next to the evidence: content is streamed, or for 7z decompressed into
private spools (memory, then a temporary file) bounded by the limits.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import IO, BinaryIO

from safeguard.domain.errors import EvidenceError
from safeguard.domain.evidence import CONTAINER_SEPARATOR, ExtractedFile
from safeguard.extraction.archive_guards import (
    ExpansionBudget,
    archive_error_item,
    member_path,
    stream_ratio_guard,
    with_error,
)
from safeguard.extraction.contract import (
    ContentOpener,
    EvidenceItem,
    EvidenceReader,
    EvidenceSource,
    ExtractionLimits,
)
from safeguard.extraction.rar import RarReader
from safeguard.extraction.sevenzip import SevenZipReader
from safeguard.extraction.streams import guarded


def _gunzip(raw: BinaryIO) -> IO[bytes]:
    return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]


def _bunzip(raw: BinaryIO) -> IO[bytes]:
    return bz2.BZ2File(raw, mode="rb")


def _unxz(raw: BinaryIO) -> IO[bytes]:
    return lzma.LZMAFile(raw, mode="rb")


_COMPRESSED_MAGIC: tuple[tuple[bytes, Callable[[BinaryIO], IO[bytes]], str], ...] = (
    (b"\x1f\x8b", _gunzip, ".gz"),
    (b"BZh", _bunzip, ".bz2"),
    (b"\xfd7zXZ\x00", _unxz, ".xz"),
)


def _source_size(raw: BinaryIO) -> int:
    position = raw.tell()
    size = raw.seek(0, 2)
    raw.seek(position)
    return size


_ARCHIVE_MAGICS = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"PK\x07\x08",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    *(magic for magic, _, _ in _COMPRESSED_MAGIC),
)


def may_be_archive(head: bytes) -> bool:
    """Cheap pre-check on the first 512 bytes: False means no archive reader can apply."""
    return head.startswith(_ARCHIVE_MAGICS) or head[257:262] == b"ustar"


class ZipReader:
    """Zip archives through `zipfile` (ZIP64 included; traditional and AES encryption flagged)."""

    name = "zip"

    def detect(self, source: EvidenceSource) -> bool:
        """Local-file or end-of-central-directory signature at the start."""
        return source.head(4) in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Members in central-directory order; directories are not yielded."""
        assert source.opener is not None
        with source.opener() as raw:
            try:
                archive = zipfile.ZipFile(raw)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                yield archive_error_item(source, f"corrupt zip archive: {exc}")
                return
            with archive:
                budget = ExpansionBudget(limits)
                members = archive.infolist()
                for index, info in enumerate(members):
                    if info.is_dir():
                        continue
                    if budget.members >= limits.max_members:
                        rest = len(members) - index
                        error = f"member count limit ({limits.max_members}) reached; {rest} entries not read"
                        yield archive_error_item(source, error)
                        return
                    yield self._member(archive, info, index, source, budget)

    def _member(
        self,
        archive: zipfile.ZipFile,
        info: zipfile.ZipInfo,
        index: int,
        source: EvidenceSource,
        budget: ExpansionBudget,
    ) -> EvidenceItem:
        path, original, error = member_path(source.label, info.filename)
        try:
            modified: datetime | None = datetime(*info.date_time, tzinfo=UTC)
        except ValueError:
            modified = None
        base = ExtractedFile(
            path=path,
            size=info.file_size,
            modified=modified,
            address=str(index),
            original_name=original,
            local_times=True,
            error=error,
        )
        if info.flag_bits & 0x1:
            return EvidenceItem(
                with_error(base, "encrypted member; content not readable", encrypted=True)
            )
        refused = budget.refuse(info.file_size, info.compress_size)
        if refused is not None:
            return EvidenceItem(with_error(base, refused))
        label = path

        @contextmanager
        def opener() -> Iterator[BinaryIO]:
            try:
                inner = archive.open(info)
            except (
                zipfile.BadZipFile,
                OSError,
                ValueError,
                EOFError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                raise EvidenceError(f"{label}: cannot open member ({exc})") from exc
            with guarded(inner, label, limit=info.file_size) as stream:
                yield stream

        return EvidenceItem(base, opener=opener)


class TarReader:
    """Tar archives through `tarfile`, plain or gzip/bzip2/xz compressed, read as one stream."""

    name = "tar"

    def detect(self, source: EvidenceSource) -> bool:
        """``ustar`` magic at offset 257, directly or after decompressing the first block."""
        head = source.head(512)
        if head[257:262] == b"ustar":
            return True
        opened = _decompressed_head(source, head)
        return opened is not None and opened[257:262] == b"ustar"

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Members in stored order.

        Tar has no index: a compressed tar is decompressed through every member, read or not,
        so the walk stops once declared sizes pass the limits.
        """
        assert source.opener is not None
        with source.opener() as raw:
            compressed_size = _source_size(raw)
            try:
                archive = tarfile.open(fileobj=raw, mode="r:*")  # noqa: SIM115 - closed by the with below
            except (tarfile.TarError, OSError, EOFError, ValueError, lzma.LZMAError) as exc:
                yield archive_error_item(source, f"corrupt tar archive: {exc}")
                return
            with archive:
                budget = ExpansionBudget(limits)
                index = 0
                while True:
                    try:
                        member = archive.next()
                    except (
                        tarfile.TarError,
                        OSError,
                        EOFError,
                        ValueError,
                        lzma.LZMAError,
                        zlib.error,
                    ) as exc:
                        yield archive_error_item(
                            source, f"corrupt tar archive after {index} members: {exc}"
                        )
                        return
                    if member is None:
                        return
                    index += 1
                    if member.isdir():
                        continue
                    item, stop = self._member(
                        archive, member, index, source, budget, compressed_size
                    )
                    yield item
                    if stop:
                        return

    def _member(
        self,
        archive: tarfile.TarFile,
        member: tarfile.TarInfo,
        index: int,
        source: EvidenceSource,
        budget: ExpansionBudget,
        compressed_size: int,
    ) -> tuple[EvidenceItem, bool]:
        path, original, error = member_path(source.label, member.name)
        base = ExtractedFile(
            path=path,
            size=member.size,
            modified=datetime.fromtimestamp(member.mtime, tz=UTC),
            address=str(index),
            original_name=original,
            error=error,
        )
        if member.issym() or member.islnk():
            return EvidenceItem(replace(base, link_target=member.linkname)), False
        if not member.isreg():
            return EvidenceItem(with_error(base, "special entry (device, fifo); not read")), False
        refused = budget.refuse(member.size, None)
        if refused is None and budget.declared > budget.limits.ratio_floor_bytes:
            ratio = budget.declared / max(compressed_size, 1)
            if ratio > budget.limits.max_ratio:
                refused = f"archive expands {ratio:.0f}:1, beyond the limit {budget.limits.max_ratio:.0f}:1"
        if refused is not None:
            # Going on would mean decompressing through the refused member: stop here.
            return EvidenceItem(with_error(base, refused + "; rest of the archive not read")), True
        label = path

        @contextmanager
        def opener() -> Iterator[BinaryIO]:
            try:
                inner = archive.extractfile(member)
            except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                raise EvidenceError(f"{label}: cannot open member ({exc})") from exc
            if inner is None:
                raise EvidenceError(f"{label}: member has no content")
            with guarded(inner, label, limit=member.size) as stream:
                yield stream

        return EvidenceItem(base, opener=opener), False


def _decompressed_head(source: EvidenceSource, head: bytes) -> bytes | None:
    for magic, wrap, _suffix in _COMPRESSED_MAGIC:
        if head.startswith(magic):
            assert source.opener is not None
            try:
                with source.opener() as raw, wrap(raw) as stream:
                    return stream.read(512)
            except (OSError, EOFError, ValueError, lzma.LZMAError, EvidenceError, zlib.error):
                return b""
    return None


class CompressedFileReader:
    """A single gzip, bzip2 or xz compressed file that is not a tar: one member."""

    name = "compressed-file"

    def detect(self, source: EvidenceSource) -> bool:
        """Compression magic whose content is not a tar archive."""
        head = source.head(512)
        if head[257:262] == b"ustar":
            return False
        inner = _decompressed_head(source, head)
        return inner is not None and inner[257:262] != b"ustar"

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """The decompressed content, named after the container without its suffix."""
        assert source.opener is not None
        outer_opener: ContentOpener = source.opener
        head = source.head(8)
        wrap = next(w for magic, w, _ in _COMPRESSED_MAGIC if head.startswith(magic))
        suffix = next(s for magic, _, s in _COMPRESSED_MAGIC if head.startswith(magic))
        last = source.label.rsplit(CONTAINER_SEPARATOR, 1)[-1]
        stem = (
            last[: -len(suffix)]
            if last.lower().endswith(suffix) and len(last) > len(suffix)
            else f"{last}.decompressed"
        )
        path = source.child_path(stem)
        with source.opener() as raw:
            compressed_size = _source_size(raw)
            raw.seek(max(compressed_size - 4, 0))
            declared = int.from_bytes(raw.read(4), "little") if suffix == ".gz" else 0
        label = path

        @contextmanager
        def opener() -> Iterator[BinaryIO]:
            with outer_opener() as raw, wrap(raw) as inner:
                guard = stream_ratio_guard(limits, compressed_size, label)
                with guarded(
                    inner, label, limit=limits.max_expanded_bytes, on_read=guard
                ) as stream:
                    yield stream

        yield EvidenceItem(ExtractedFile(path=path, size=declared, address="0"), opener=opener)


ARCHIVE_READERS: tuple[EvidenceReader, ...] = (
    ZipReader(),
    TarReader(),
    SevenZipReader(),
    RarReader(),
    CompressedFileReader(),
)
"""Every archive reader, in the order they are tried."""
