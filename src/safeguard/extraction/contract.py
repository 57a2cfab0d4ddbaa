"""The evidence-reader contract: what every reader yields and the limits it obeys.

An exhibit (a folder, an archive, a disk image, an E01 set) is read into a flat, ordered stream
of `EvidenceItem`. Each item is an `ExtractedFile` (path inside the exhibit with its container
chain, size, timestamps, deleted/encrypted flags, error) plus a way to open its content.

Rules every reader keeps:

* Bad input never raises out of ``iter_items``: a corrupt container, a bomb limit, an encrypted
  member, a traversal name or an unreadable sector becomes an item with ``error`` set (with
  content when part of it is readable), and the walk goes on.
* The order is stable and deterministic, and paths are unique within an exhibit, so a resumed
  scan can skip finished items by path.
* Evidence is only ever opened for reading.

Content lifetime (why items are not sent to worker processes): an item's content may live
inside an open container (a tar stream, a file-system handle, a temporary spool of a nested
archive). ``item.open()`` is therefore valid only until the iterator is advanced past the
item. The scan pipeline iterates in one process and reads each item there, handing bytes (or,
for plain files, `EvidenceItem.local_path`) to workers. ``open()`` may be called more than
once while the item is current; each call starts at the beginning of the content.

Streams returned by ``open()`` raise `EvidenceError` from ``read()`` when the content turns out
damaged or expands beyond a limit mid-way; the caller records that as the item's error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from safeguard.domain.errors import EvidenceError
from safeguard.domain.evidence import CONTAINER_SEPARATOR, ExtractedFile

ContentOpener = Callable[[], AbstractContextManager[BinaryIO]]
"""Opens a fresh binary stream over some content, positioned at its start."""

GIB = 1024**3


class ExhibitKind(StrEnum):
    """What an exhibit turned out to be, by content (never by name alone)."""

    FOLDER = "folder"
    ARCHIVE = "archive"
    RAW_DISK = "raw-disk"
    SPLIT_RAW = "split-raw"
    EWF = "ewf"
    FILE = "file"
    """A single plain file (a picture, a video): yielded as one item."""


@dataclass(frozen=True, slots=True)
class ExtractionLimits:
    """Guards against decompression bombs and runaway nesting.

    Attributes:
        max_depth: how many containers deep archives are expanded; the exhibit itself is
            depth 0, so 1 expands archives found directly in it but not archives inside those.
        max_expanded_bytes: total bytes one archive may expand to (declared or actually
            read); members beyond it are reported, not read.
        max_ratio: largest expanded/compressed ratio accepted for one member once it expands
            past `ratio_floor_bytes` (tiny files legitimately compress extremely well).
        max_members: most members read from one archive; the rest are reported as one error.
        ratio_floor_bytes: members smaller than this are not ratio-checked.
        spool_memory_bytes: a nested archive that must be re-read at random is spooled to
            memory up to this size, then to a private temporary file (never next to evidence).
    """

    max_depth: int = 5
    max_expanded_bytes: int = 20 * GIB
    max_ratio: float = 200.0
    max_members: int = 1_000_000
    ratio_floor_bytes: int = 1024 * 1024
    spool_memory_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.max_depth < 0 or self.max_expanded_bytes <= 0 or self.max_members <= 0:
            raise ValueError("extraction limits must be positive (max_depth may be 0)")
        if self.max_ratio < 1:
            raise ValueError("max_ratio must be at least 1")


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One file found in an exhibit, with a way to read its content.

    Attributes:
        file: the description (path with container chain, size, times, flags, error).
        opener: opens the content; None when nothing is readable (encrypted, refused, lost).
        depth: container nesting: 0 for files of the exhibit itself, 1 inside an archive
            found in it, and so on.
        local_path: for files that are plain files on this machine (folder exhibits, a single
            file), their real path, so a worker process can open them itself; otherwise None.
    """

    file: ExtractedFile
    opener: ContentOpener | None = field(default=None, compare=False, repr=False)
    depth: int = 0
    local_path: Path | None = None

    @property
    def path(self) -> str:
        """Full path inside the exhibit, container chain included (unique per exhibit)."""
        return self.file.path

    @property
    def size(self) -> int:
        """Size in bytes as the container records it."""
        return self.file.size

    @property
    def deleted(self) -> bool:
        """True when recovered from an unallocated directory entry."""
        return self.file.deleted

    @property
    def error(self) -> str | None:
        """Why the item could not be (fully) read; None when all is well."""
        return self.file.error

    @property
    def readable(self) -> bool:
        """True when `open` can be called."""
        return self.opener is not None

    def open(self) -> AbstractContextManager[BinaryIO]:
        """Open the content for one sequential read, from the start.

        Valid only while this item is the iterator's current item (see the module docstring).

        Raises:
            EvidenceError: the item has no readable content.
        """
        if self.opener is None:
            raise EvidenceError(f"no readable content: {self.file.error or 'not a file'}")
        return self.opener()

    def with_error(self, error: str) -> EvidenceItem:
        """A copy with `error` set (appended to an existing error)."""
        joined = f"{self.file.error}; {error}" if self.file.error else error
        return replace(self, file=replace(self.file, error=joined))


@dataclass(frozen=True, slots=True)
class EvidenceSource:
    """Something a reader can read: a real path, or content inside another container.

    Attributes:
        label: the path prefix for everything found inside, e.g. ``case.E01`` or
            ``case.E01/partition 1/docs/a.zip``.
        opener: opens the content as a seekable binary stream; None for folders.
        path: the real file-system path when the source is a file or folder on this machine.
        depth: nesting of this source (0 for the exhibit itself).
    """

    label: str
    opener: ContentOpener | None = field(default=None, compare=False, repr=False)
    path: Path | None = None
    depth: int = 0

    def head(self, count: int = 4096) -> bytes:
        """The first `count` bytes of the content (empty for folders or unreadable sources)."""
        if self.opener is None:
            return b""
        try:
            with self.opener() as stream:
                return stream.read(count)
        except Exception:  # any failure here only means the content is not recognisable
            return b""

    def child_path(self, *parts: str) -> str:
        """``label/part/part`` with the container separator."""
        return CONTAINER_SEPARATOR.join((self.label, *parts))


@runtime_checkable
class EvidenceReader(Protocol):
    """Reads one kind of container; registered in `safeguard.extraction.registry`."""

    name: str
    """Short stable name, e.g. ``folder``, ``zip``, ``disk-image``, ``ewf``."""

    def detect(self, source: EvidenceSource) -> bool:
        """True when the content (not the name) shows this reader applies."""
        ...

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Yield every file inside `source` in a stable order; never raise for bad input."""
        ...
