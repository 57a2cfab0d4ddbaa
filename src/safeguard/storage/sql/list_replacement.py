"""Re-importing a stored list by difference: only entries that changed are written.

A national list is re-imported whole every time a new version arrives, and most of its
entries are unchanged. Replacing every row cost the database a delete and an insert per
entry (with index maintenance for each), and gave every entry a new row id, so every index
built on the list (PDQ, exact digests) saw the whole list removed and added again.

Here the incoming entries go to a temporary staging table (no indexes while it fills, the
same fast bulk path as an import), are reduced to the last entry of each `entry_id`, and
then compared with the stored rows in two set operations: stored rows with no identical
staged entry are deleted (and logged as removed), staged entries with no identical stored
row are inserted. An unchanged entry keeps its row and row id. Everything runs in the
caller's transaction, so a failed reader still rolls the whole re-import back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)

from safeguard.list_formats.entry_columns import COLUMN_DEFAULTS
from safeguard.storage.sql.hash_list_rows import INSERT_COLUMNS, DeferredIndexes
from safeguard.storage.sql.schema import BigId
from safeguard.storage.sql.tables_lists import hash_list_entries

_COMPARED = tuple(name for name in INSERT_COLUMNS if name not in ("list_id", "added_revision"))
"""The columns that make two versions of an entry the same."""

_STAGING_DEFAULTS: dict[str, Any] = {
    "list_id": text("0"),
    "added_revision": text("0"),
    **{
        name: str(COLUMN_DEFAULTS[name])
        for name in ("category_scheme", "category_code", "category_label")
    },
}

_staging_metadata = MetaData()
staging_entries = Table(
    "hash_list_staging",
    _staging_metadata,
    # Arrival order: the last entry of an entry_id wins, and new rows are stored in order.
    Column("seq", BigId, primary_key=True),
    # Defaults for what a batch of entry columns leaves out (`insert_columns`): the list id
    # and revision are set when the staged rows are applied, the category is UNCATEGORISED.
    *(
        Column(
            column.name,
            column.type,
            nullable=column.nullable,
            server_default=_STAGING_DEFAULTS.get(column.name),
        )
        for column in hash_list_entries.c
        if column.name in INSERT_COLUMNS
    ),
    prefixes=["TEMPORARY"],
    # Gone at commit on PostgreSQL, so a pooled connection never holds a stale one.
    postgresql_on_commit="DROP",
)

RowsWriter = Callable[[Connection, Table], int]
"""Writes the incoming entries into the given table; returns how many it wrote."""

DropRows = Callable[..., int]
"""`hash_list_writes.drop_entries(conn, revision, *conditions)`: deletes and logs rows."""


def replace_by_difference(
    conn: Connection,
    list_id: int,
    revision: int,
    write_rows: RowsWriter,
    drop_rows: DropRows,
    own_rows: int,
    indexes: DeferredIndexes,
    pre_staged: bool = False,
) -> int:
    """Bring list `list_id`'s rows to the incoming entries, changing only what differs.

    Args:
        conn: the import's connection, in its transaction.
        list_id: the stored list.
        revision: the import's revision (for new rows and the removal log).
        write_rows: streams the incoming entries into the staging table.
        drop_rows: deletes stored rows matching conditions, logging them as removed.
        own_rows: rows the list holds now. When fewer than half of them stay unchanged
            and `indexes` would defer the indexes for this many rows, the list is replaced
            outright instead (every old row removed, every staged entry inserted anew).
        indexes: defers the entry indexes for such an outright replacement.
        pre_staged: the staging table exists and holds the incoming entries already
            (`stage_entries`); `write_rows` is not called.

    Returns:
        The number of stored rows replaced or removed.
    """
    if not pre_staged:
        # Created in the import's transaction: a failed import rolls the table back with it.
        staging_entries.create(conn)
        write_rows(conn, staging_entries)
    # Indexed once filled: one sort instead of a B-tree insert per entry.
    conn.exec_driver_sql("CREATE INDEX ix_hash_list_staging_entry ON hash_list_staging (entry_id)")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE hash_list_staging")  # temporary tables get no autovacuum
    _keep_last_of_each_entry(conn)
    stored = hash_list_entries.alias("stored")
    staged = staging_entries.c
    still_stored = (
        select(literal(1))
        .select_from(stored)
        .where(stored.c.list_id == list_id, *_same(staged, stored.c))
        .exists()
    )
    unchanged = conn.execute(
        select(func.count()).select_from(staging_entries).where(still_stored)
    ).scalar_one()
    if indexes.would_defer(own_rows) and 2 * int(unchanged) < own_rows:
        # Most entries of a large list changed and the indexes may be deferred (SQLite):
        # replacing outright costs less than two anti-joins writing most rows anyway. With
        # the indexes in place (PostgreSQL) the difference stays cheaper.
        indexes.note_rows(own_rows)
        replaced = drop_rows(conn, revision, hash_list_entries.c.list_id == list_id)
        new_rows = select(*_new_row_columns(staged, list_id, revision)).order_by(staged.seq)
        conn.execute(insert(hash_list_entries).from_select(list(INSERT_COLUMNS), new_rows))
        indexes.restore()
    else:
        unchanged_in_staging = (
            select(literal(1))
            .select_from(staging_entries)
            .where(*_same(staged, hash_list_entries.c))
            .exists()
        )
        replaced = drop_rows(
            conn, revision, hash_list_entries.c.list_id == list_id, ~unchanged_in_staging
        )
        new_rows = (
            select(*_new_row_columns(staged, list_id, revision))
            .where(~still_stored)
            .order_by(staged.seq)
        )
        conn.execute(insert(hash_list_entries).from_select(list(INSERT_COLUMNS), new_rows))
    if conn.dialect.name != "postgresql":
        staging_entries.drop(conn)
    return replaced


def _new_row_columns(staged: Any, list_id: int, revision: int) -> list[Any]:
    """Staged entries as ``hash_list_entries`` rows of the list, in `INSERT_COLUMNS` order."""
    return [
        literal(list_id),
        *(staged[name] for name in _COMPARED),
        literal(revision, BigInteger()),
    ]


def _same(staged: Any, stored: Any) -> Iterable[Any]:
    """Conditions under which a staged entry and a stored row are the same entry."""
    yield staged.entry_id == stored.entry_id
    for name in _COMPARED:
        if name != "entry_id":
            yield staged[name].is_not_distinct_from(stored[name])


def _keep_last_of_each_entry(conn: Connection) -> None:
    staged = staging_entries.c
    repeated = conn.execute(
        select(staged.entry_id).group_by(staged.entry_id).having(func.count() > 1).limit(1)
    ).first()
    if repeated is None:
        return
    later = staging_entries.alias("later")
    conn.execute(
        delete(staging_entries).where(
            select(literal(1))
            .select_from(later)
            .where(and_(later.c.entry_id == staged.entry_id, later.c.seq > staged.seq))
            .exists()
        )
    )


def stage_entries(conn: Connection, write_rows: RowsWriter) -> int:
    """Create the staging table and stream the incoming entries into it; returns how many.

    On SQLite the staging table is a TEMP table, in a separate database file: filling it
    (reading and parsing a whole list file) takes no lock on the main database, so other
    processes keep writing (the service records uploads) until the short apply step.
    """
    # SQLite runs this before the transaction's first write, so the table is not rolled
    # back with a failed import: a leftover from one on this connection goes first.
    staging_entries.drop(conn, checkfirst=True)
    staging_entries.create(conn)
    return write_rows(conn, staging_entries)


def insert_staged(conn: Connection, list_id: int, revision: int) -> None:
    """Insert every staged entry as a row of list `list_id`, in arrival order."""
    new_rows = select(*_new_row_columns(staging_entries.c, list_id, revision)).order_by(
        staging_entries.c.seq
    )
    conn.execute(insert(hash_list_entries).from_select(list(INSERT_COLUMNS), new_rows))


def drop_staging(conn: Connection) -> None:
    """Drop the staging table (PostgreSQL drops it at commit by itself)."""
    if conn.dialect.name != "postgresql":
        staging_entries.drop(conn)
