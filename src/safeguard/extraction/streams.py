"""Binary stream wrappers shared by the evidence readers.

They keep three promises of the contract: evidence is opened read-only (and, where the
operating system allows, without touching access times), a damaged stream fails with
`EvidenceError` rather than a library-specific exception, and expansion is bounded.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from safeguard.domain.errors import EvidenceError

_NOATIME = getattr(os, "O_NOATIME", 0)


def open_read_only(path: Path | str) -> int:
    """A read-only descriptor of `path`, asking the kernel not to update its access time.

    ``O_NOATIME`` is only granted to the file's owner (or a privileged user); without it the
    file is opened normally, still read-only. Every evidence file Safeguard opens goes
    through here (folders, images, E01 and split raw segments, the acquisition check).
    """
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
    try:
        return os.open(path, flags | _NOATIME)
    except PermissionError:
        return os.open(path, flags)


@contextmanager
def open_local_file(path: Path | str) -> Iterator[BinaryIO]:
    """`open_read_only` as a binary file object, closed on leaving the block."""
    with os.fdopen(open_read_only(path), "rb") as stream:
        yield stream


class NonClosingStream(io.RawIOBase):
    """A view of a shared stream whose ``close()`` leaves the shared stream open."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner

    def readable(self) -> bool:
        """Always True."""
        return True

    def seekable(self) -> bool:
        """Always True."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill `buffer`; returns the byte count (0 at the end)."""
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all remaining when negative)."""
        return self._inner.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to `offset` relative to `whence`; returns the new position."""
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        """Current position."""
        return self._inner.tell()


class GuardedStream(io.RawIOBase):
    """Reads from `inner`, turning any failure into `EvidenceError` and bounding the total.

    Args:
        inner: the stream to read (closed with this one).
        label: short description for messages (never content or hashes).
        limit: most bytes that may be read; reading more raises `EvidenceError`.
        on_read: called with the size of each chunk read, for shared budgets (it may raise
            `EvidenceError` to stop the read).
    """

    def __init__(
        self,
        inner: IO[bytes],
        label: str,
        limit: int | None = None,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self._inner = inner
        self._label = label
        self._limit = limit
        self._on_read = on_read
        self._count = 0

    def readable(self) -> bool:
        """Always True."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill `buffer`; returns the byte count (0 at the end)."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all remaining when negative)."""
        want = size if size is not None and size >= 0 else 1024 * 1024
        try:
            data = self._inner.read(want)
        except EvidenceError:
            raise
        except Exception as exc:
            raise EvidenceError(f"{self._label}: content unreadable ({exc})") from exc
        self._count += len(data)
        if self._limit is not None and self._count > self._limit:
            raise EvidenceError(
                f"{self._label}: expands beyond the limit of {self._limit} bytes; reading stopped"
            )
        if self._on_read is not None and data:
            self._on_read(len(data))
        if size is None or size < 0:
            parts = [data]
            while data:
                data = self.read(1024 * 1024)
                parts.append(data)
            return b"".join(parts)
        return data

    def close(self) -> None:
        """Close the inner stream too; a damaged container may fail to close, which is moot."""
        with contextlib.suppress(Exception):
            self._inner.close()
        super().close()


@contextmanager
def guarded(
    inner: IO[bytes],
    label: str,
    limit: int | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[BinaryIO]:
    """Context manager form of `GuardedStream`."""
    stream = GuardedStream(inner, label, limit, on_read)
    try:
        yield stream  # type: ignore[misc]
    finally:
        stream.close()


class PositionedReader(io.RawIOBase):
    """Base of read-only, seekable streams over a known size that track their own position.

    Subclasses set ``_size`` and implement `readinto` from ``_position``; seeking past the
    end is allowed (reads then return nothing), before the start is clamped to 0.
    """

    _size: int = 0
    _position: int = 0

    def readable(self) -> bool:
        """Always True."""
        return True

    def seekable(self) -> bool:
        """Always True."""
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to `offset` relative to `whence`; returns the new position."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        """Current position."""
        return self._position
