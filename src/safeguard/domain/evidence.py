"""Exhibits and the files found inside them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CONTAINER_SEPARATOR = "/"


@dataclass(frozen=True, slots=True)
class ExtractedFile:
    """One file found in an exhibit, described without its content.

    Attributes:
        path: full path inside the exhibit including the container chain,
            e.g. ``image.E01/partition 2/Users/x/a.zip/b.jpg``.
        size: size in bytes as the container records it.
        modified, accessed, created, changed: timezone-aware timestamps when the source has them.
        deleted: True when recovered from an unallocated directory entry.
        error: why the file could not be fully read, if so.
    """

    path: str
    size: int
    modified: datetime | None = None
    accessed: datetime | None = None
    created: datetime | None = None
    changed: datetime | None = None
    deleted: bool = False
    error: str | None = None
