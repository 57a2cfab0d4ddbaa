"""The bridge between Python streams and The Sleuth Kit.

`StreamImage` is a TSK image over any seekable stream (raw file, split raw, pyewf handle) that
records unreadable sectors instead of failing; `TskFileStream` reads one file through TSK and
fails when the file's blocks touch a recorded sector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytsk3

from safeguard.domain.errors import EvidenceError
from safeguard.extraction.streams import PositionedReader

READ_CHUNK = 1024 * 1024
_SECTOR = 512
_DATA_ATTRIBUTES = frozenset(
    {
        pytsk3.TSK_FS_ATTR_TYPE_DEFAULT,
        pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA,
        pytsk3.TSK_FS_ATTR_TYPE_HFS_DATA,
        pytsk3.TSK_FS_ATTR_TYPE_HFS_DEFAULT,
        pytsk3.TSK_FS_ATTR_TYPE_APFS_DATA,
    }
)
TSK_ERRORS = (OSError, RuntimeError)
"""pytsk3 reports failures (and errors raised by the image adapter) as these."""


class StreamImage(pytsk3.Img_Info):  # type: ignore[misc]
    """A pytsk3 image over any seekable binary stream (raw file, split raw, pyewf handle)."""

    def __init__(self, stream: Any, size: int) -> None:
        self._stream = stream
        self._size = size
        self.unreadable: list[tuple[int, int]] = []
        """Regions ``(offset, length)`` the stream could not deliver, in the order met."""
        self.reasons: list[str] = []
        """Why each region of `unreadable` could not be read (same index)."""
        self.blamed: set[int] = set()
        """Indexes into `unreadable` already reported as a file's read error."""
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at `offset`; an unreadable region reads as zeros and is recorded.

        Zeros let TSK go on past one bad sector or a missing E01 chunk instead of giving up
        on the whole partition table or file system; any file whose content touches a
        recorded region fails its read (see `TskFileStream`), so no zeros pass as content.
        """
        length = max(0, min(length, self._size - offset))
        data, _ = self._try_read(offset, length)
        if data is not None and len(data) == length:
            return data
        # Retry sector by sector so only the sectors that fail become zeros.
        pieces = []
        for start in range(offset, offset + length, _SECTOR):
            size = min(_SECTOR, offset + length - start)
            piece, reason = self._try_read(start, size)
            if piece is None or len(piece) < size:
                self._record_unreadable(start, size, reason or "short read")
                piece = bytes(size)
            pieces.append(piece)
        return b"".join(pieces)

    def _try_read(self, offset: int, length: int) -> tuple[bytes | None, str | None]:
        try:
            self._stream.seek(offset)
            data: bytes = self._stream.read(length)
        except Exception as exc:  # the stream's own failure: a damaged E01 chunk, a vanished file
            return None, str(exc) or type(exc).__name__
        return data, None

    def _record_unreadable(self, offset: int, length: int, reason: str) -> None:
        if any(
            start <= offset and offset + length <= start + size for start, size in self.unreadable
        ):
            return  # met again (TSK re-reads after its cache evicts a block)
        if self.unreadable:
            last = len(self.unreadable) - 1
            last_offset, last_length = self.unreadable[last]
            if (
                last_offset + last_length == offset
                and last not in self.blamed
                and self.reasons[last] == reason
            ):
                self.unreadable[last] = (last_offset, last_length + length)
                return
        self.unreadable.append((offset, length))
        self.reasons.append(reason)

    def get_size(self) -> int:
        """Media size in bytes."""
        return self._size

    def close(self) -> None:
        """The stream is owned and closed by whoever opened it."""


class TskFileStream(PositionedReader):
    """Sequential/seekable reads of one file's default data through TSK ``read_random``."""

    def __init__(self, handle: Any, size: int, label: str, volume: ImageVolume) -> None:
        super().__init__()
        self._handle = handle
        self._size = size
        self._label = label
        self._volume = volume
        self._ranges: list[tuple[int, int]] | None = None
        self._position = 0

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill `buffer` (fully, unless the file ends); returns the byte count."""
        view = memoryview(buffer).cast("B")
        total = min(len(view), self._size - self._position)
        done = 0
        while done < total:
            want = min(total - done, READ_CHUNK)
            try:
                data = self._handle.read_random(self._position, want)
            except TSK_ERRORS as exc:
                raise EvidenceError(
                    f"{self._label}: unreadable at offset {self._position} ({exc})"
                ) from exc
            self._check_unreadable()
            if not data:
                raise EvidenceError(f"{self._label}: content ends early at offset {self._position}")
            view[done : done + len(data)] = data
            done += len(data)
            self._position += len(data)
        return done

    def _check_unreadable(self) -> None:
        """Fail when any of the file's blocks lies in a region the image could not read.

        TSK caches image reads, so a bad region may have been met (and read as zeros) while
        reading something else; comparing block ranges catches that too.
        """
        image = self._volume.image
        if not image.unreadable:
            return
        if self._ranges is None:
            self._ranges = self._volume.data_ranges(self._handle, self._label)
        for index, (offset, length) in enumerate(image.unreadable):
            for start, size in self._ranges:
                if offset < start + size and start < offset + length:
                    image.blamed.add(index)
                    raise EvidenceError(
                        f"{self._label}: content on unreadable sectors (image bytes {offset}-"
                        f"{offset + length - 1}): {image.reasons[index]}"
                    )


@dataclass(frozen=True, slots=True)
class ImageVolume:
    """Where a file system sits in the image, to map file blocks to image bytes."""

    image: StreamImage
    offset: int
    block_size: int

    def data_ranges(self, handle: Any, label: str) -> list[tuple[int, int]]:
        """Image byte ranges holding the file's default data (non-resident runs).

        Raises:
            EvidenceError: TSK cannot list the runs, so whether the content lies on an
                unreadable region cannot be told.
        """
        ranges = []
        try:
            for attribute in handle:
                if attribute.info.type not in _DATA_ATTRIBUTES or attribute.info.name:
                    continue
                for run in attribute:
                    if run.flags & (
                        pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE | pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER
                    ):
                        continue
                    start = self.offset + int(run.addr) * self.block_size
                    ranges.append((start, int(run.len) * self.block_size))
        except TSK_ERRORS as exc:
            raise EvidenceError(
                f"{label}: data runs cannot be listed ({exc}); whether the content lies on "
                "unreadable sectors cannot be checked"
            ) from exc
        return ranges
