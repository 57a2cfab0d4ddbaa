"""Rows of a delimited list file, read fast: plain lines split directly, plain layouts in columns.

Most list files are plain: no quotes, one record a line. Such a line is split on the
delimiter, which gives what the csv module gives for it at a fraction of the cost; a line
holding a quote, a NUL or more than the csv field limit goes through the csv module (with
the lines that follow when a quoted field spans them), so odd files read as before.

A plain layout (an id column and hex digest columns, nothing else read: the threatexchange /
HMA ``id,pdq`` list) is read straight into `EntryColumns` batches: each batch of rows is
checked as a whole (every digest already canonical, every id present); a batch that is not
goes through the ordinary per-row parser, so a malformed row is reported (or skipped) with
its line exactly as before.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path

from safeguard.domain.digests import HEX_LENGTHS, HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats.contract import ErrorPolicy, ReadReport, derived_entry_id
from safeguard.list_formats.entry_columns import BATCH_ROWS, DIGEST_COLUMN, EntryColumns
from safeguard.list_formats.record_parsing import guarded_columns

NumberedRow = tuple[int, list[str]]

_LOWER_HEX = "0123456789abcdef"
_DERIVED_ID_ORDER = (HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5, HashAlgorithm.PDQ)


def numbered_rows(path: Path, source: str, delimiter: str) -> Iterator[NumberedRow]:
    """(line number, fields) for each data row after the header; comments and blanks skipped.

    Comment lines (``#``) may precede the header; after it every non-blank row is data.

    Raises:
        ListFormatError: the file cannot be read, or the csv module rejects a quoted record.
    """
    field_limit = csv.field_size_limit()
    number = 0
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            lines = iter(handle)
            seen_header = False
            for line in lines:
                number += 1
                if '"' in line or "\0" in line or len(line) > field_limit:
                    start = number
                    reader = csv.reader(chain((line,), lines), delimiter=delimiter)
                    try:
                        row = next(reader, [])
                    except csv.Error as exc:
                        raise ListFormatError(
                            source, start + reader.line_num - 1, f"unreadable CSV: {exc}"
                        ) from exc
                    number += max(reader.line_num - 1, 0)
                else:
                    row = line.rstrip("\r\n").split(delimiter)
                if not "".join(row).strip():  # no cell holds anything but blanks
                    continue
                if not seen_header:
                    seen_header = not row[0].startswith("#")
                    continue
                yield number, row
    except OSError as exc:
        raise ListFormatError(source, None, f"cannot read the file: {exc.strerror}") from exc


def plain_columns(
    rows: Iterator[NumberedRow],
    *,
    width: int,
    digests: Sequence[tuple[int, HashAlgorithm]],
    id_index: int | None,
    parse: Callable[[int, list[str]], HashEntry | None],
    source: str,
    policy: ErrorPolicy,
    report: ReadReport,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[EntryColumns]:
    """Rows of a plain layout in batches of columns, counted in `report`.

    Args:
        rows: the data rows (`numbered_rows`).
        width: the number of header columns (every row must have as many fields).
        digests: (column index, algorithm) of each hex digest column, in header order.
        id_index: the id column, or None when ids are derived from the digests.
        parse: the reader's per-row parser, for a batch that is not plain throughout.
        source: the file, for error messages.
        policy: what a malformed row does (raise or skip), as for `guarded_columns`.
        report: the reader's counters.
        batch_rows: rows per batch.
    """
    # A later column of the same algorithm wins, as in the per-row parser.
    by_algorithm = {algorithm: index for index, algorithm in digests}
    try:
        while chunk := list(islice(rows, batch_rows)):
            batch = _plain_batch(chunk, width, by_algorithm, id_index)
            if batch is None:
                parsed = guarded_columns(chunk, parse, source=source, policy=policy, report=report)
                if parsed is not None:
                    yield parsed
                continue
            report.records += batch.rows
            report.entries += batch.rows
            report.last_record = chunk[-1][0]
            yield replace(batch, records=list(map(itemgetter(0), chunk)))
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _plain_batch(
    chunk: list[NumberedRow],
    width: int,
    by_algorithm: dict[HashAlgorithm, int],
    id_index: int | None,
) -> EntryColumns | None:
    """The chunk as columns when every row is plain, else None (parse it row by row)."""
    rows = list(map(itemgetter(1), chunk))
    if set(map(len, rows)) != {width}:
        return None
    values_of: dict[HashAlgorithm, list[str]] = {}
    for algorithm, index in by_algorithm.items():
        values = list(map(itemgetter(index), rows))
        # Canonical already: every value of the algorithm's length and lower-case hex. The
        # joined text stripped of hex digits is empty exactly when every character is one.
        if set(map(len, values)) != {HEX_LENGTHS[algorithm]} or "".join(values).strip(_LOWER_HEX):
            return None
        values_of[algorithm] = values
    columns: dict[str, Sequence[object]] = {
        DIGEST_COLUMN[algorithm]: values for algorithm, values in values_of.items()
    }
    if id_index is not None:
        ids = list(map(str.strip, map(itemgetter(id_index), rows)))
        if "" in ids:
            return None
        columns["source_record_id"] = ids  # the per-row parser keeps the id as the record id
    else:
        first = next(a for a in _DERIVED_ID_ORDER if a in values_of)
        ids = [derived_entry_id({first: value}) for value in values_of[first]]
    columns["entry_id"] = ids
    return EntryColumns.of_columns(len(rows), columns)
