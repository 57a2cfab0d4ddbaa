"""Per-chunk checks of EWF version 1 (E01, S01) segment files, read without libewf.

libewf reads a chunk whose checksum fails and hands back its bytes without saying so (the
Python binding has no call for its checksum-error list), so a damaged chunk would silently
change the content of every file stored on it. `EwfChunkTable` reads the chunk tables of the
segment files itself and checks any chunk on demand: an uncompressed chunk against the
Adler-32 stored after it, a compressed one by inflating it (zlib checks its own Adler-32) and
comparing its length with the chunk size.

Layout (libewf's "Expert Witness Compression Format" notes): a 13-byte file header, then
sections, each opened by a 76-byte descriptor (type, next offset, size, padding, Adler-32 of
the first 72 bytes). A ``table`` section lists the chunks of the ``sectors`` section before
it: entry count, a base offset, a header checksum, then 32-bit entries (bit 31 set: the
chunk is compressed; the rest: its offset from the base) and an Adler-32 of the entries.
``table2`` is a copy of ``table``, used when the first copy fails its checksum.

EWF version 2 (Ex01) sets are not parsed here; `open_chunk_table` returns None for them.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass

_DESCRIPTOR = 76
_FILE_HEADER = 13
_V1_MAGICS = (b"EVF\x09\x0d\x0a\xff\x00", b"MVF\x09\x0d\x0a\xff\x00")
_COMPRESSED = 0x80000000


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """Where one chunk lies: segment index, byte offset, stored size, compressed or not."""

    segment: int
    offset: int
    size: int
    compressed: bool


class EwfChunkTable:
    """The chunks of an EWF v1 set, each checkable against its stored checksum.

    Args:
        descriptors: open file descriptors of the segment files, in order (owned by the caller).
        names: the segment file names, for messages.
        chunk_size: bytes of media per chunk.
        media_size: bytes of media in the set.
    """

    def __init__(
        self, descriptors: list[int], names: list[str], chunk_size: int, media_size: int
    ) -> None:
        self._descriptors = descriptors
        self._names = names
        self.chunk_size = chunk_size
        self.media_size = media_size
        self.chunks: list[StoredChunk] = []
        self.table_errors: list[str] = []
        """Tables whose both copies fail their checksum (their chunks cannot be checked)."""
        self.closed = False
        """Whether the last segment ends with its ``done`` section (False: truncated)."""
        self.continues = False
        """Whether the last segment ends with ``next``: segments after it are missing."""
        for segment, descriptor in enumerate(descriptors):
            self._read_segment(segment, descriptor)
        self.chunk_count = -(-media_size // chunk_size) if chunk_size else 0

    def diagnosis(self) -> str | None:
        """What is structurally wrong with the set (truncation, lost tables), or None."""
        problems = []
        if self.continues:
            problems.append(
                f"segment(s) missing: the last segment found ({self._names[-1]}) says "
                "another follows"
            )
        elif not self.closed:
            problems.append(
                f"truncated: the last segment ({self._names[-1]}) ends before its closing "
                "'done' section"
            )
        if len(self.chunks) < self.chunk_count:
            problems.append(
                f"the chunk tables list {len(self.chunks)} of {self.chunk_count} chunks"
            )
        problems.extend(self.table_errors)
        return "; ".join(problems) or None

    def layout_understood(self) -> bool:
        """Every chunk listed, and every uncompressed one its size plus a 4-byte checksum."""
        if len(self.chunks) != self.chunk_count:
            return False
        last = self.chunk_count - 1
        return all(
            chunk.compressed or chunk.size == self.chunk_size + 4 or index == last
            for index, chunk in enumerate(self.chunks)
        )

    def describe(self, index: int) -> str:
        """``chunk N (media bytes A-B, segment NAME)`` for messages."""
        start = index * self.chunk_size
        end = min(start + self.chunk_size, self.media_size) - 1
        where = ""
        if index < len(self.chunks):
            where = f", segment {self._names[self.chunks[index].segment]}"
        return f"EWF chunk {index} (media bytes {start}-{end}{where})"

    def check(self, index: int) -> str | None:
        """Why chunk `index` is damaged, or None when it matches its checksum."""
        if index >= len(self.chunks):
            if self.table_errors:
                return f"{self.describe(index)} is not listed: {self.table_errors[0]}"
            return f"{self.describe(index)} is missing from the chunk tables"
        chunk = self.chunks[index]
        expected = min(self.chunk_size, self.media_size - index * self.chunk_size)
        try:
            stored = os.pread(self._descriptors[chunk.segment], chunk.size, chunk.offset)
        except OSError as exc:
            return f"{self.describe(index)} unreadable: {exc.strerror or exc}"
        if chunk.compressed:
            inflater = zlib.decompressobj()
            try:
                data = inflater.decompress(stored, expected + 1)
            except zlib.error as exc:
                return f"{self.describe(index)} fails its checksum (compressed data: {exc})"
            if not inflater.eof or len(data) != expected:
                return f"{self.describe(index)} fails its checksum (compressed data incomplete)"
            return None
        if len(stored) < expected + 4:
            return f"{self.describe(index)} is cut short ({len(stored)} of {expected + 4} bytes)"
        (checksum,) = struct.unpack_from("<I", stored, expected)
        if zlib.adler32(stored[:expected]) != checksum:
            return f"{self.describe(index)} fails its Adler-32 checksum"
        return None

    def _read_segment(self, segment: int, descriptor: int) -> None:
        size = os.fstat(descriptor).st_size
        offset = _FILE_HEADER
        sectors_end: int | None = None
        pending_table: list[StoredChunk] | None = None
        while offset + _DESCRIPTOR <= size:
            head = os.pread(descriptor, _DESCRIPTOR, offset)
            if (
                len(head) < _DESCRIPTOR
                or zlib.adler32(head[:72]) != struct.unpack_from("<I", head, 72)[0]
            ):
                self.table_errors.append(
                    f"section descriptor at byte {offset} of {self._names[segment]} is damaged"
                )
                break
            kind = head[:16].rstrip(b"\0")
            next_offset, section_size = struct.unpack_from("<QQ", head, 16)
            if kind == b"sectors":
                sectors_end = offset + section_size
                pending_table = None
            elif kind in (b"table", b"table2") and pending_table is None:
                end = sectors_end if sectors_end is not None else offset
                pending_table = self._read_table(segment, descriptor, offset, end, kind)
                if pending_table is not None:
                    self.chunks.extend(pending_table)
                    pending_table = []
                elif kind == b"table2":
                    self.table_errors.append(
                        f"both chunk tables at byte {offset} of {self._names[segment]} "
                        "fail their checksums"
                    )
            if segment == len(self._descriptors) - 1:
                self.closed = kind == b"done"
                self.continues = kind == b"next"
            if kind in (b"done", b"next") or next_offset <= offset:
                break
            offset = next_offset

    def _read_table(
        self, segment: int, descriptor: int, offset: int, data_end: int, kind: bytes
    ) -> list[StoredChunk] | None:
        header = os.pread(descriptor, 24, offset + _DESCRIPTOR)
        if len(header) < 24:
            return None
        count, _, base, _, checksum = struct.unpack_from("<IIQII", header)
        if zlib.adler32(header[:20]) != checksum:
            return None
        raw = os.pread(descriptor, 4 * count + 4, offset + _DESCRIPTOR + 24)
        if len(raw) < 4 * count + 4:
            return None
        entries = struct.unpack_from(f"<{count}I", raw)
        if zlib.adler32(raw[: 4 * count]) != struct.unpack_from("<I", raw, 4 * count)[0]:
            return None
        starts = [base + (entry & ~_COMPRESSED) for entry in entries]
        ends = [*starts[1:], data_end]
        return [
            StoredChunk(segment, start, max(0, end - start), bool(entry & _COMPRESSED))
            for entry, start, end in zip(entries, starts, ends, strict=True)
        ]


def open_chunk_table(
    descriptors: list[int], names: list[str], chunk_size: int, media_size: int
) -> EwfChunkTable | None:
    """The chunk table of an EWF v1 set; None where chunks cannot be checked here.

    None for EWF v2 (Ex01), and for a complete set whose tables do not have the layout read
    here (a chunk count other than the media needs, or uncompressed chunks without a
    trailing checksum): checking such a set would call good chunks damaged.
    """
    if not descriptors:
        return None
    magic = os.pread(descriptors[0], 8, 0)
    if magic not in _V1_MAGICS:
        return None
    table = EwfChunkTable(descriptors, names, chunk_size, media_size)
    if table.closed and not table.table_errors and not table.layout_understood():
        return None
    return table
