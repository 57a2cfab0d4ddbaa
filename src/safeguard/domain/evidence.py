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
        encrypted: True when the container says the content is encrypted (it is not readable).
        address: where the container keeps the entry (inode / MFT entry number, archive member
            index), so the same name found twice can be told apart; None when not meaningful.
        original_name: the name exactly as the container stores it, when it had to be changed
            to build `path` (``../`` traversal, absolute or empty names).
        link_target: for a symbolic link, what it points to (links are recorded, never followed).
        local_times: True when the source stores wall-clock local time without a zone (FAT,
            zip); the timestamps then carry that wall-clock value labelled UTC and need the
            device's time zone before they are compared with true UTC times.
    """

    path: str
    size: int
    modified: datetime | None = None
    accessed: datetime | None = None
    created: datetime | None = None
    changed: datetime | None = None
    deleted: bool = False
    error: str | None = None
    encrypted: bool = False
    address: str | None = None
    original_name: str | None = None
    link_target: str | None = None
    local_times: bool = False
