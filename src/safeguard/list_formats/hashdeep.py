"""hashdeep v1.0 files: ``%%%% HASHDEEP-1.0``, ``%%%% size,<algorithms>,filename``, rows.

The first column is always the size and the last the file name; a name may hold commas (there
is no quoting), so a row is split at most `columns - 1` times. Lines starting with ``#`` are
comments; hashdeep writes ``## Invoked from:`` and ``## $ <command>`` lines, kept as metadata.
Columns for algorithms Safeguard does not keep (tiger, whirlpool) are read past.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO, cast

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ParsedList,
    ReadReport,
    derived_entry_id,
)
from safeguard.list_formats.record_parsing import (
    RecordError,
    guard_records,
    parse_digest,
    parse_size,
)

MAGIC = "%%%% HASHDEEP-1.0"
_KNOWN_COLUMNS = {
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA1,
    "sha256": HashAlgorithm.SHA256,
}
_IGNORED_COLUMNS = frozenset({"tiger", "whirlpool"})
_HEADER_LINES = 20


class HashdeepReader:
    """Reader for hashdeep v1.0 known-file lists."""

    name = "hashdeep"

    def detect(self, head: bytes, path: Path) -> bool:
        """True when the file starts with the HASHDEEP-1.0 magic line."""
        return head.decode("utf-8-sig", "replace").lstrip().startswith(MAGIC)

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Read the header lines, then stream the rows.

        Raises:
            ListFormatError: no magic line or no column line (at once); a bad row (while
                iterating).
        """
        source = str(path)
        columns, stated = _read_header(path, source)
        report = ReadReport()
        metadata = ListMetadata(format_name=self.name, suggested_name=path.stem, stated=stated)
        entries = guard_records(
            _numbered_rows(path, source),
            lambda number, line: _row_entry(line, columns),
            source=source,
            policy=errors,
            report=report,
        )
        return ParsedList(metadata, entries, report)


def _read_header(path: Path, source: str) -> tuple[list[str], dict[str, str]]:
    stated: dict[str, str] = {}
    columns: list[str] | None = None
    saw_magic = False
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                if number > _HEADER_LINES:
                    break
                line = line.rstrip("\r\n")
                if line.startswith(MAGIC):
                    saw_magic = True
                elif line.startswith("%%%% "):
                    columns = [name.strip().lower() for name in line[5:].split(",")]
                elif columns is not None and not line.startswith("#"):
                    break  # the comments hashdeep writes follow the column line
                elif line.startswith("## Invoked from:"):
                    stated["invoked_from"] = line.removeprefix("## Invoked from:").strip()
                elif line.startswith("## $"):
                    stated["command"] = line.removeprefix("## $").strip()
    except OSError as exc:
        raise ListFormatError(source, None, f"cannot read the file: {exc.strerror}") from exc
    if not saw_magic:
        raise ListFormatError(source, 1, f"no {MAGIC!r} line: not a hashdeep file")
    if columns is None:
        raise ListFormatError(source, 2, "no '%%%% size,...,filename' column line")
    if len(columns) < 3 or columns[0] != "size" or columns[-1] != "filename":
        raise ListFormatError(source, 2, "the column line must start with size, end with filename")
    unknown = [c for c in columns[1:-1] if c not in _KNOWN_COLUMNS and c not in _IGNORED_COLUMNS]
    if unknown:
        raise ListFormatError(source, 2, f"unknown hash column(s): {', '.join(unknown)}")
    return columns, stated


def _numbered_rows(path: Path, source: str) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip("\r\n")
                if line.strip() and not line.startswith(("#", "%%%%")):
                    yield number, line
    except OSError as exc:
        raise ListFormatError(source, None, f"cannot read the file: {exc.strerror}") from exc


def _row_entry(line: str, columns: Sequence[str]) -> HashEntry:
    fields = line.split(",", len(columns) - 1)
    if len(fields) != len(columns):
        raise RecordError(f"{len(fields)} fields, the header names {len(columns)}")
    digests: dict[HashAlgorithm, str] = {}
    for column, value in zip(columns[1:-1], fields[1:-1], strict=True):
        algorithm = _KNOWN_COLUMNS.get(column)
        if algorithm is None:
            continue
        digest = parse_digest(algorithm, value, column)
        if digest is not None:
            digests[algorithm] = digest
    if not digests:
        raise RecordError("no MD5, SHA-1 or SHA-256 value")
    return HashEntry(
        entry_id=derived_entry_id(digests),
        digests=digests,
        file_name=fields[-1] or None,
        size=parse_size(fields[0], "size"),
    )


HASHDEEP_ALGORITHMS: tuple[HashAlgorithm, ...] = (
    HashAlgorithm.MD5,
    HashAlgorithm.SHA1,
    HashAlgorithm.SHA256,
)
"""The digests a hashdeep file can hold, in the column order hashdeep itself uses."""


def columns_for(entries: Iterable[HashEntry]) -> tuple[HashAlgorithm, ...]:
    """The hash columns that suit `entries`: every algorithm all of them have.

    hashdeep refuses a file with an empty hash field, so a column is chosen only when every
    entry (that has any hashdeep digest) has it. When no algorithm is shared by all, the one
    most entries have is chosen; entries without it are then left out by the writer.
    """
    counts = dict.fromkeys(HASHDEEP_ALGORITHMS, 0)
    total = 0
    for entry in entries:
        present = [a for a in HASHDEEP_ALGORITHMS if a in entry.digests]
        if not present:
            continue
        total += 1
        for algorithm in present:
            counts[algorithm] += 1
    shared = tuple(a for a in HASHDEEP_ALGORITHMS if total and counts[a] == total)
    if shared:
        return shared
    best = max(HASHDEEP_ALGORITHMS, key=lambda a: counts[a])
    return (best,) if counts[best] else (HashAlgorithm.MD5,)


class HashdeepWriter:
    """Writer for hashdeep v1.0, readable by ``hashdeep -k`` for audits.

    The hash columns are chosen (`algorithms`) or follow the data (the default): every
    algorithm all entries have (`columns_for`). An entry missing one of the columns' digests
    is left out (the count returned says how many were written), never written with an empty hash field, since
    ``hashdeep -k`` refuses such a file. An unknown size is an empty field (hashdeep accepts
    it). A missing name is replaced by the entry id. Newlines in names are written as
    backslash-n since the format has no quoting.

    Args:
        algorithms: hash columns in order; None chooses them from the entries (which are then
            held in memory once: for large lists pass them, as `ListService.export` does after
            a first pass over the store).
    """

    name = "hashdeep"
    binary = False

    def __init__(self, algorithms: Sequence[HashAlgorithm] | None = None) -> None:
        if algorithms is not None:
            unsupported = [a.value for a in algorithms if a not in HASHDEEP_ALGORITHMS]
            if unsupported or not algorithms:
                raise ValueError(f"hashdeep columns are md5, sha1, sha256; not {unsupported}")
            algorithms = tuple(algorithms)
        self.algorithms = algorithms

    def write(
        self, entries: Iterable[HashEntry], stream: TextIO | BinaryIO, metadata: ListMetadata
    ) -> int:
        """Write the two header lines, a comment naming the list, then one row per entry."""
        out = cast(TextIO, stream)
        algorithms = self.algorithms
        if algorithms is None:
            entries = list(entries)
            algorithms = columns_for(entries)
        out.write(MAGIC + "\n")
        out.write("%%%% size," + ",".join(a.value for a in algorithms) + ",filename\n")
        out.write("## Written by Safeguard\n")
        if metadata.suggested_name:
            out.write(f"## List: {_one_line(metadata.suggested_name)}\n")
        out.write("##\n")
        count = 0
        for entry in entries:
            values = [entry.digests.get(algorithm, "") for algorithm in algorithms]
            if not all(values):
                continue
            size = "" if entry.size is None else str(entry.size)
            name = _one_line(entry.file_name or entry.entry_id)
            out.write(",".join([size, *values, name]) + "\n")
            count += 1
        return count


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")
