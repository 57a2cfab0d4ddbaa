"""The contract every hash-list reader and writer meets.

A reader turns a file into a `ParsedList`: metadata the file states, and a lazy stream of
`HashEntry` values read in constant memory. A writer turns entries back into bytes or text.

Entry ids:
    A reader uses the list's own id for an entry when the format has one (VICS `MediaID`, a CSV
    `id` column). Otherwise it derives a stable id from the digests with `derived_entry_id`:
    ``"<algorithm>:<value>"`` for the first of SHA-256, SHA-1, MD5, PDQ that the entry has, or
    ``"photodna-sha256:<sha256 of the PhotoDNA text>"`` when PhotoDNA is all there is. The same
    digests always give the same id, so re-importing a list that has no ids updates it in place.

Malformed input:
    Readers raise `ListFormatError(source, record, reason)` *while iterating*, never later than the
    record at fault, so a caller that stores entries inside one transaction can roll back.
    `ErrorPolicy.STRICT` (the default) aborts on the first malformed record. `ErrorPolicy.LENIENT`
    skips malformed records and counts them in `ParsedList.report` (the first
    `ReadReport.KEPT_PROBLEMS` errors are kept in full). A file that is broken as a whole
    (truncated JSON, no header, unreadable) fails under both policies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, TextIO, runtime_checkable

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry, ListKind

HEAD_BYTES = 8192
"""How much of a file `detect` is shown."""


class ErrorPolicy(StrEnum):
    """What a reader does with a malformed record."""

    STRICT = "strict"
    LENIENT = "lenient"


@dataclass(frozen=True, slots=True)
class ListMetadata:
    """What a list file states about itself, plus what the reader suggests.

    Attributes:
        format_name: the reader or writer name (`vics`, `md5sum`, `hashdeep`, `csv`, `nsrl`, ...).
        source: who issued the list, when the file says so (e.g. "NIST NSRL").
        version: the issuer's version string, when the file says so.
        suggested_name: a name for the list (usually from the file name); callers may override.
        suggested_kind: what the format implies (VICS: known-bad, NSRL: known-good), or None.
        category_scheme: the scheme the file's category codes are in, when one applies.
        stated: anything else the file states, as text (VICS `@odata.context`, case number,
            hashdeep invocation, NSRL build set, ...). Never holds digests.
    """

    format_name: str
    source: str = ""
    version: str = ""
    suggested_name: str | None = None
    suggested_kind: ListKind | None = None
    category_scheme: str | None = None
    stated: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ReadReport:
    """Counters a reader fills while its entries are consumed.

    Attributes:
        records: records seen (good, skipped and ignored).
        entries: entries yielded.
        skipped: malformed records skipped under `ErrorPolicy.LENIENT`.
        ignored: well-formed records that carry nothing Safeguard keeps (e.g. a URL signal)
            or that the list itself marks as not to be matched (a negative opinion).
        ignored_reasons: `ignored`, counted by reason (every ignored record has one).
        ignored_records: the first `KEPT_PROBLEMS` ignored records, each naming its file,
            record number and reason (as a `ListFormatError`, though nothing is wrong).
        problems: the first `KEPT_PROBLEMS` errors behind `skipped`.
        notes: remarks about the data (e.g. placeholder PhotoDNA values dropped), counted by kind.
        last_record: the number (line or record) of the record read last, so a caller
            consuming entries one by one can say where each came from.
        last_quality: the PDQ quality the record read last states, as written (a CSV
            ``quality`` column); a query's attribute, never stored with an entry.
    """

    KEPT_PROBLEMS = 100

    records: int = 0
    entries: int = 0
    skipped: int = 0
    ignored: int = 0
    ignored_reasons: dict[str, int] = field(default_factory=dict)
    ignored_records: list[ListFormatError] = field(default_factory=list)
    problems: list[ListFormatError] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    last_record: int = 0
    last_quality: str | None = None

    def skip(self, error: ListFormatError) -> None:
        """Count a skipped record, keeping the error while fewer than KEPT_PROBLEMS are kept."""
        self.skipped += 1
        if len(self.problems) < self.KEPT_PROBLEMS:
            self.problems.append(error)

    def ignore(self, reason: str, source: str = "", record: int | None = None) -> None:
        """Count a well-formed record left out on purpose, with its reason (and where it is)."""
        self.ignored += 1
        self.ignored_reasons[reason] = self.ignored_reasons.get(reason, 0) + 1
        if source and len(self.ignored_records) < self.KEPT_PROBLEMS:
            self.ignored_records.append(ListFormatError(source, record, reason))

    def note(self, remark: str) -> None:
        """Count one occurrence of a remark about the data."""
        self.notes[remark] = self.notes.get(remark, 0) + 1


@dataclass(slots=True)
class ParsedList:
    """A list being read: its metadata and a one-pass, constant-memory stream of entries.

    Use it as a context manager (or call `close`) so the file is closed even when the caller
    stops early. `entries` can be iterated once.
    """

    metadata: ListMetadata
    entries: Iterator[HashEntry]
    report: ReadReport = field(default_factory=ReadReport)

    def close(self) -> None:
        """Release the underlying file (closes the entries generator)."""
        close = getattr(self.entries, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> ParsedList:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class ListReader(Protocol):
    """Reads one hash-list format.

    Attributes:
        name: short unique name (registry key), e.g. "vics".
    """

    name: str

    def detect(self, head: bytes, path: Path) -> bool:
        """True when `head` (the first `HEAD_BYTES` of the file at `path`) is in this format.

        Decides on content; the file name is only a tie-breaker. Must not raise on odd input.
        """
        ...

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Open `path` and return its metadata and a lazy stream of entries.

        Raises:
            ListFormatError: at once when the file cannot be this format at all; while
                iterating for a malformed record (see the module docstring for policies).
        """
        ...


@runtime_checkable
class ListWriter(Protocol):
    """Writes entries in one format.

    Attributes:
        name: short unique name (registry key), e.g. "csv".
        binary: True when `write` wants a binary stream, False for a text stream.
    """

    name: str
    binary: bool

    def write(
        self, entries: Iterable[HashEntry], stream: TextIO | BinaryIO, metadata: ListMetadata
    ) -> int:
        """Write `entries` to `stream` and return how many were written.

        Entries may carry only some digests and may be `UNCATEGORISED`; a writer skips (and does
        not count) an entry only when the format cannot represent any of its digests.
        """
        ...


_DERIVED_ID_ORDER = (
    HashAlgorithm.SHA256,
    HashAlgorithm.SHA1,
    HashAlgorithm.MD5,
    HashAlgorithm.PDQ,
)


def derived_entry_id(digests: Mapping[HashAlgorithm, str]) -> str:
    """A stable entry id from canonical digests (see the module docstring for the rule).

    Raises:
        ValueError: `digests` is empty.
    """
    for algorithm in _DERIVED_ID_ORDER:
        value = digests.get(algorithm)
        if value:
            return f"{algorithm.value}:{value}"
    photodna = digests.get(HashAlgorithm.PHOTODNA)
    if photodna:
        return "photodna-sha256:" + hashlib.sha256(photodna.encode("ascii", "replace")).hexdigest()
    raise ValueError("an entry needs at least one digest")


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first `size` bytes of `path`, for `ListReader.detect`.

    Raises:
        ListFormatError: the file cannot be opened or read.
    """
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise ListFormatError(str(path), None, f"cannot read the file: {exc.strerror}") from exc
