"""Split raw disk images (``image.001``, ``image.002``, ...) read as one image."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from safeguard.extraction.streams import PositionedReader, open_read_only

_SEGMENT_NUMBER = re.compile(r"^(?P<stem>.*\.)(?P<number>\d{3,})$")


def split_segments(first: Path) -> list[Path]:
    """The consecutive segments of a split raw image, starting from ``name.001``."""
    match = _SEGMENT_NUMBER.match(first.name)
    if match is None:
        return [first]
    width = len(match["number"])
    segments = []
    number = int(match["number"])
    while True:
        candidate = first.with_name(f"{match['stem']}{number:0{width}d}")
        if not candidate.is_file():
            break
        segments.append(candidate)
        number += 1
    return segments or [first]


class SplitRawStream(PositionedReader):
    """Read-only, seekable view of split raw segments as one image."""

    def __init__(self, segments: list[Path]) -> None:
        super().__init__()
        self._files = [os.fdopen(open_read_only(segment), "rb") for segment in segments]
        self._starts: list[int] = []
        total = 0
        for handle in self._files:
            self._starts.append(total)
            total += handle.seek(0, io.SEEK_END)
        self._size = total
        self._position = 0

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill `buffer`; returns the byte count (0 at the end)."""
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self._size:
            index = max(i for i, start in enumerate(self._starts) if start <= self._position)
            handle = self._files[index]
            handle.seek(self._position - self._starts[index])
            chunk = handle.read(len(view) - done)
            if not chunk:
                break
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._position += len(chunk)
        return done

    def close(self) -> None:
        """Close the underlying files."""
        for handle in self._files:
            handle.close()
        super().close()
