"""Use case: read hashes that arrive in a report (no content) as queries for matching.

A hash file is read by the same readers as `safeguard lists import` (md5sum/sha*sum text in
every form, BSD ``--tag`` lines, GNU-escaped names, NUL-terminated records, hashdeep, CSV/TSV,
threatexchange CSV, signal lines, ``.te`` state files and JSON lines, VICS), chosen by content.
A file no reader recognises as a whole (a report with a stray line) is read line by line as
checksum text, so each unusable line gets its own error. Every record gives one query, in file
order: its digests, or the reason it gives none (never quoting the value).

Bare 64-digit values without a name can be SHA-256 or PDQ; unless the caller names the
algorithm, such a value is tried as both. A ``quality``/``pdq_quality`` column gives the PDQ
query's quality.

Two shapes no list reader takes are read line by line here: a file of header-less
comma-separated hashes (each field is a hash of that line; a field that is not a hash makes
the line an error, never a silent cut to the first field), and PhotoDNA values given with
``--algorithm photodna`` (matched by equal value only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from safeguard.domain.digests import HEX_LENGTHS, HashAlgorithm, guess_algorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError, ListFormatError, UnreadableFileError
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats import checksum_text
from safeguard.list_formats.checksum_text import ChecksumTextReader
from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ListReader,
    ParsedList,
    ReadReport,
)
from safeguard.list_formats.record_parsing import guard_records
from safeguard.list_formats.registry import detect_reader

_RECORD_KEYS = tuple((algorithm, algorithm.value) for algorithm in HashAlgorithm)
"""Each algorithm with its JSON key, in the order records list them (read once, not per query:
an enum's ``value`` is a Python-level property)."""


@dataclass(frozen=True, slots=True)
class HashQuery:
    """The hashes of one record of a hash file.

    Attributes:
        line: 1-based line (or record) number in the file.
        digests: canonical values by algorithm.
        pdq_quality: the PDQ quality the file states, if any.
        error: why the record gives no query (the value is never repeated in it).
    """

    line: int
    digests: dict[HashAlgorithm, str] = field(default_factory=dict)
    pdq_quality: int | None = None
    error: str | None = None

    def as_record(self) -> dict[str, object]:
        """The query as JSON fields: each value under its algorithm's key."""
        record: dict[str, object] = {"line": self.line}
        for algorithm, key in _RECORD_KEYS:
            value = self.digests.get(algorithm)
            if value is not None:
                record[key] = value
        if HashAlgorithm.PDQ in self.digests:
            record["pdq_quality"] = self.pdq_quality
        record["error"] = self.error
        return record


@dataclass(slots=True)
class QueryFileSummary:
    """What reading a hash file gave: the reader, and the read/used/skipped/ignored counts."""

    format_name: str = ""
    report: ReadReport = field(default_factory=ReadReport)


_LINE_BY_LINE = ChecksumTextReader("checksum-text", bare_64=HashAlgorithm.SHA256)


def read_hash_queries(
    path: Path,
    algorithm: HashAlgorithm | None = None,
    summary: QueryFileSummary | None = None,
) -> Iterator[HashQuery]:
    """Stream the queries in a hash file, one per record, in constant memory.

    Args:
        path: the file (UTF-8, a byte-order mark is allowed).
        algorithm: the algorithm of bare values, when the sender says which.
        summary: filled with the reader's name and counters as the queries are consumed.

    Raises:
        UnreadableFileError: the file cannot be opened, or is not a hash file at all (raised
            here, before any query).
    """
    try:
        with path.open("rb") as probe:
            probe.read(1)
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path.name}: {exc.strerror}") from exc
    if algorithm is HashAlgorithm.PHOTODNA or _comma_lines_without_header(path):
        return _plain_lines(path, algorithm)
    reader: ListReader
    try:
        reader = detect_reader(path)
    except ListFormatError as exc:
        if "empty" in exc.reason:
            return iter(())
        reader = _LINE_BY_LINE
    if isinstance(reader, ChecksumTextReader):
        # Bare 64-digit values are tried as both SHA-256 and PDQ (see `_query_of`).
        reader = _LINE_BY_LINE
    if reader is _LINE_BY_LINE and _only_bare_digests(path):
        report = ReadReport()
        if summary is not None:
            summary.format_name = _LINE_BY_LINE.name
            summary.report = report
        return _bare_digest_queries(path, algorithm, report)
    try:
        if reader is _LINE_BY_LINE:
            parsed = _checksum_lines_one_by_one(path)
        else:
            parsed = reader.read(path, errors=ErrorPolicy.LENIENT)
    except ListFormatError as exc:
        raise UnreadableFileError(f"cannot read {path.name} as {reader.name}: {exc}") from exc
    if summary is not None:
        summary.format_name = reader.name
        summary.report = parsed.report
    return _queries(parsed, reader.name, algorithm)


def _checksum_lines_one_by_one(path: Path) -> ParsedList:
    """The checksum-text reader's entries, parsed and counted one line at a time.

    The reader itself parses a batch of lines before yielding its entries (fast for
    imports), so its report's ``last_record`` and problems run ahead of the entry being
    consumed; a query must name its own line and come after the errors of earlier lines.
    """
    source = str(path)
    report = ReadReport()
    entries = guard_records(
        checksum_text._numbered_lines(path, source),
        lambda _number, line: checksum_text._line_entry(line, HashAlgorithm.SHA256),
        source=source,
        policy=ErrorPolicy.LENIENT,
        report=report,
    )
    metadata = ListMetadata(format_name=_LINE_BY_LINE.name, suggested_name=path.stem)
    return ParsedList(metadata, entries, report)


def _queries(
    parsed: ParsedList, format_name: str, forced: HashAlgorithm | None
) -> Iterator[HashQuery]:
    report = parsed.report
    reported = 0
    with parsed:
        for entry in parsed.entries:
            # Problems met before this entry come first, in file order.
            while (
                reported < len(report.problems)
                and (report.problems[reported].record or 0) < report.last_record
            ):
                yield _error_query(report, reported)
                reported += 1
            yield _query_of(entry, report, format_name, forced)
        while reported < len(report.problems):
            yield _error_query(report, reported)
            reported += 1


def _error_query(report: ReadReport, index: int) -> HashQuery:
    problem = report.problems[index]
    return HashQuery(problem.record or 0, error=problem.reason)


def _query_of(
    entry: HashEntry, report: ReadReport, format_name: str, forced: HashAlgorithm | None
) -> HashQuery:
    line = report.last_record
    digests = dict(entry.digests)
    if format_name == _LINE_BY_LINE.name and entry.file_name is None and len(digests) == 1:
        ((algorithm, value),) = digests.items()
        if forced is not None:
            if HEX_LENGTHS.get(forced) != len(value):
                return HashQuery(
                    line,
                    error=f"a {len(value)}-digit value is not a {forced.value} digest",
                )
            digests = {forced: value}
        elif algorithm is HashAlgorithm.SHA256:
            digests[HashAlgorithm.PDQ] = value  # 64 digits: SHA-256 or PDQ, both tried
    quality: int | None = None
    if report.last_quality is not None:
        try:
            quality = int(report.last_quality)
        except ValueError:
            return HashQuery(line, error="pdq_quality is not a whole number")
    return HashQuery(line, digests, quality)


_BARE_DIGEST = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_LENGTH_ALGORITHMS = {32: HashAlgorithm.MD5, 40: HashAlgorithm.SHA1, 64: HashAlgorithm.SHA256}


def _checksum_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines as the checksum-text reader numbers and skips them (blank, ``#``)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if line.strip() and not line.lstrip().startswith("#"):
                yield number, line


def _only_bare_digests(path: Path) -> bool:
    """True when every line that counts is one MD5, SHA-1 or SHA-256/PDQ hex value, alone.

    Such a file (the usual list of hashes from a report) is read by `_bare_digest_queries`
    with the checksum-text reader's results at a fraction of its cost per line; anything
    else (names, sizes, tags, spaces, NUL-ended records) goes through the reader.
    """
    try:
        with path.open("rb") as probe:
            if b"\0" in probe.read(65536):
                return False
        return all(_BARE_DIGEST.fullmatch(line) for _, line in _checksum_lines(path))
    except OSError:
        return False  # the reader reports it


def _bare_digest_queries(
    path: Path, forced: HashAlgorithm | None, report: ReadReport
) -> Iterator[HashQuery]:
    """The queries the checksum-text reader and `_query_of` give for a file of bare values."""
    for number, line in _checksum_lines(path):
        report.records += 1
        report.entries += 1
        report.last_record = number
        value = line.lower()
        if forced is not None:
            if HEX_LENGTHS.get(forced) != len(value):
                yield HashQuery(
                    number, error=f"a {len(value)}-digit value is not a {forced.value} digest"
                )
                continue
            yield HashQuery(number, {forced: value})
        elif len(value) == 64:
            yield HashQuery(number, {HashAlgorithm.SHA256: value, HashAlgorithm.PDQ: value})
        else:
            yield HashQuery(number, {_LENGTH_ALGORITHMS[len(value)]: value})


def _significant_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                yield number, stripped


def _comma_lines_without_header(path: Path) -> bool:
    """True when the first significant line is comma-separated hashes, not a CSV header."""
    for _number, first in _significant_lines(path):
        fields = [f.strip().strip('"') for f in first.split(",")]
        return len(fields) > 1 and guess_algorithm(fields[0]) is not None
    return False


def _plain_lines(path: Path, forced: HashAlgorithm | None) -> Iterator[HashQuery]:
    for number, text in _significant_lines(path):
        yield _line_query(number, text, forced)


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
    if "," not in first or forced is HashAlgorithm.PHOTODNA:
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
