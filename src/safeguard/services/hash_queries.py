"""Use case: read hashes that arrive in a report (no content) as queries for matching.

Two layouts are accepted: one hash per line (a trailing name, as in ``md5sum`` output, is
ignored; ``#`` starts a comment), or a CSV/TSV whose header names the columns (``md5``,
``sha1``, ``sha256``, ``pdq``, ``pdq_quality``, ``photodna``; ``hash`` for a column of mixed
digests). A bare hash's algorithm is taken from its length; 64 hex digits can be SHA-256 or
PDQ, so without an explicit algorithm such a value is tried as both. A line of
comma-separated values without a header gives every field as a hash of that line; a field
that is not a hash makes the line an error (never a silent cut to the first field). PhotoDNA
values (``--algorithm photodna`` or a ``photodna`` column) are matched by equal value only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from safeguard.domain.digests import HashAlgorithm, guess_algorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError, UnreadableFileError

_HEADER_NAMES: Mapping[str, str] = {
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha_1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha_256": "sha256",
    "pdq": "pdq",
    "pdq_hash": "pdq",
    "pdqhash": "pdq",
    "pdq_quality": "pdq_quality",
    "quality": "pdq_quality",
    "photodna": "photodna",
    "pdna": "photodna",
    "hash": "hash",
    "digest": "hash",
    "value": "hash",
}


@dataclass(frozen=True, slots=True)
class HashQuery:
    """The hashes of one line of a hash file.

    Attributes:
        line: 1-based line number in the file (for a CSV, the line of the record).
        digests: canonical values by algorithm.
        pdq_quality: the PDQ quality the file states, if any.
        error: why the line gives no query (the value is never repeated in it).
    """

    line: int
    digests: dict[HashAlgorithm, str] = field(default_factory=dict)
    pdq_quality: int | None = None
    error: str | None = None

    def as_record(self) -> dict[str, object]:
        """The query as JSON fields: each value under its algorithm's key."""
        record: dict[str, object] = {"line": self.line}
        for algorithm in HashAlgorithm:
            if algorithm in self.digests:
                record[algorithm.value] = self.digests[algorithm]
        if HashAlgorithm.PDQ in self.digests:
            record["pdq_quality"] = self.pdq_quality
        record["error"] = self.error
        return record


def _bare_algorithms(value: str, forced: HashAlgorithm | None) -> tuple[HashAlgorithm, ...]:
    if forced is not None:
        return (forced,)
    guessed = guess_algorithm(value)
    if guessed is not None:
        return (guessed,)
    if len(value.strip()) == 64:
        return (HashAlgorithm.SHA256, HashAlgorithm.PDQ)
    raise InvalidDigestError(f"not an MD5, SHA-1, SHA-256 or PDQ digest ({len(value)} chars)")


def _bare_query(line: int, value: str, forced: HashAlgorithm | None) -> HashQuery:
    try:
        algorithms = _bare_algorithms(value, forced)
        digests = {algo: normalise_digest(algo, value) for algo in algorithms}
    except InvalidDigestError as exc:
        return HashQuery(line, error=str(exc))
    return HashQuery(line, digests)


def _line_query(line: int, text: str, forced: HashAlgorithm | None) -> HashQuery:
    """A header-less line: a hash and an optional name, or comma-separated hashes."""
    first = text.split()[0]
    if "," not in first:
        return _bare_query(line, first, forced)
    digests: dict[HashAlgorithm, str] = {}
    for number, field_text in enumerate(text.strip().split(","), start=1):
        value = field_text.strip().strip('"')
        if not value:
            continue
        query = _bare_query(line, value, forced)
        if query.error is not None:
            return HashQuery(
                line,
                error=f"field {number} of this comma-separated line is not a hash "
                f"({query.error}); give a header row naming the columns",
            )
        for algorithm, digest in query.digests.items():
            if digests.setdefault(algorithm, digest) != digest:
                return HashQuery(
                    line,
                    error=f"two different {algorithm.value} values on one line; give a header "
                    "row naming the columns",
                )
    if not digests:
        return HashQuery(line, error="no hash on this line")
    return HashQuery(line, digests)


def _csv_query(line: int, row: Mapping[str, str], forced: HashAlgorithm | None) -> HashQuery:
    digests: dict[HashAlgorithm, str] = {}
    quality: int | None = None
    try:
        for column, raw in row.items():
            value = (raw or "").strip()
            if not value:
                continue
            if column == "pdq_quality":
                quality = int(value)
            elif column == "hash":
                for algorithm in _bare_algorithms(value, forced):
                    digests[algorithm] = normalise_digest(algorithm, value)
            else:
                algorithm = HashAlgorithm(column)
                digests[algorithm] = normalise_digest(algorithm, value)
    except InvalidDigestError as exc:
        return HashQuery(line, error=str(exc))
    except ValueError:
        return HashQuery(line, error="pdq_quality is not a whole number")
    if not digests:
        return HashQuery(line, error="no hash on this line")
    return HashQuery(line, digests, quality)


def _header_of(first_line: str) -> tuple[str, list[str]] | None:
    """The delimiter and column names when `first_line` is a header, else None."""
    for delimiter in (",", "\t", ";"):
        cells = [cell.strip().strip('"').lower() for cell in first_line.split(delimiter)]
        if len(cells) > 1 or delimiter == ",":
            known = [_HEADER_NAMES.get(cell) for cell in cells]
            if any(name is not None for name in known):
                return delimiter, [name or f"_ignored_{i}" for i, name in enumerate(known)]
    return None


def read_hash_queries(path: Path, algorithm: HashAlgorithm | None = None) -> Iterator[HashQuery]:
    """Stream the queries in a hash file, one per hash line or CSV record, in constant memory.

    Args:
        path: the file (UTF-8, a byte-order mark is allowed).
        algorithm: the algorithm of bare values, when the sender says which.

    Raises:
        UnreadableFileError: the file cannot be opened (raised here, before any query).
    """
    try:
        handle = path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path.name}: {exc.strerror}") from exc
    return _queries(handle, algorithm)


def _significant(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _queries(handle: TextIO, algorithm: HashAlgorithm | None) -> Iterator[HashQuery]:
    with handle:
        number = 0
        for line in handle:
            number += 1
            if _significant(line):
                first = line.strip()
                break
        else:
            return
        header = _header_of(first)
        if header is None:
            yield _line_query(number, first, algorithm)
            for line in handle:
                number += 1
                if _significant(line):
                    yield _line_query(number, line, algorithm)
            return
        delimiter, names = header
        reader = csv.reader(handle, delimiter=delimiter)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            row = {
                name: cell
                for name, cell in zip(names, cells, strict=False)
                if not name.startswith("_ignored_")
            }
            # reader.line_num counts the lines it has read, quoted newlines included.
            yield _csv_query(number + reader.line_num, row, algorithm)
