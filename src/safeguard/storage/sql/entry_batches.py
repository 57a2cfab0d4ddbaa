"""Writing entries to the hash-list tables in batches of columns, the fast way for imports.

`SqlHashListStore.import_list` gathers its entries into `EntryColumns` batches
(`entry_batches`) and writes each with `insert_columns`: executemany on SQLite, COPY on
PostgreSQL, sending only the columns a batch holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import repeat

from sqlalchemy import Connection, Table

from safeguard.domain.digests import HEX_LENGTHS
from safeguard.domain.errors import InvalidDigestError
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats.entry_columns import (
    COLUMN_DEFAULTS,
    ColumnarEntries,
    EntryColumns,
    column_batches,
)
from safeguard.storage.hash_list_store import normalised_entry
from safeguard.storage.sql.hash_list_rows import DIGEST_COLUMNS, send_rows
from safeguard.storage.sql.tables_lists import hash_list_entries


def entry_batches(entries: Iterable[HashEntry], size: int) -> Iterator[EntryColumns]:
    """`entries` in batches of columns, every digest canonical.

    `ColumnarEntries` keep the reader's batches (checked, not rebuilt); other entries are
    normalised (`normalised_entry`) and gathered into batches of `size`.

    Raises:
        InvalidDigestError: while iterating, for a digest that does not fit its algorithm.
    """
    if not isinstance(entries, ColumnarEntries):
        yield from column_batches(map(normalised_entry, entries), size)
        return
    for batch in entries.batches():
        for algorithm, name in DIGEST_COLUMNS.items():
            values = batch.columns.get(name)
            length = HEX_LENGTHS.get(algorithm)
            if values is None or length is None:
                continue
            present = [value for value in values if value is not None]
            # One C-level pass each: lengths, then the joined text stripped of hex digits.
            if present and (
                set(map(len, present)) != {length}  # type: ignore[arg-type]
                or "".join(present).strip("0123456789abcdef")  # type: ignore[arg-type]
            ):
                raise InvalidDigestError(f"a batch holds {algorithm.value} values not canonical")
        yield batch


def insert_columns(
    conn: Connection,
    table: Table,
    batch: EntryColumns,
    constants: Mapping[str, object] | None = None,
) -> None:
    """Insert a batch of entry columns into `table`, with the driver's fastest path.

    Only the batch's own columns are sent (plus ``pdq_bits``, from ``pdq``, and `constants`:
    the same value in every row); the table's defaults fill the others. Binding a value
    costs SQLite's driver about as much as storing it, so a plain list sends 4 values a
    row rather than 20. On PostgreSQL with psycopg the rows go through ``COPY``.

    Args:
        conn: the connection, in its transaction.
        table: ``hash_list_entries`` or a table with its columns (the staging table).
        batch: the entries, with canonical digests.
        constants: column -> value for every row (``list_id``, ``added_revision``, and any
            NOT NULL column the batch leaves out when `table` has no default for it).
    """
    if not batch.rows:
        return
    names = list(batch.columns)
    values = [batch.columns[name] for name in names]
    pdq = batch.columns.get("pdq")
    if pdq is not None:
        names.append("pdq_bits")
        values.append(
            list(map(bytes.fromhex, pdq))  # type: ignore[arg-type]
            if pdq.count(None) == 0
            else [None if code is None else bytes.fromhex(code) for code in pdq]  # type: ignore[arg-type]
        )
    fixed = dict(constants or {})
    if table is hash_list_entries:  # no column defaults there: an uncategorised batch says so
        for name in ("category_scheme", "category_code", "category_label"):
            if name not in batch.columns:
                fixed.setdefault(name, COLUMN_DEFAULTS[name])
    names.extend(fixed)
    values.extend(repeat(value, batch.rows) for value in fixed.values())  # type: ignore[misc]
    dialect = conn.dialect
    if dialect.name == "sqlite":
        for name in ("first_seen", "last_seen"):
            if name in names:
                # Dates as ISO text, as SQLAlchemy's Date type stores and parses them.
                position = names.index(name)
                values[position] = [
                    None if day is None else day.isoformat()  # type: ignore[attr-defined]
                    for day in values[position]
                ]
    send_rows(conn, table, names, zip(*values, strict=False))
