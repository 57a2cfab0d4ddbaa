"""Importing a whole list in one transaction: staged, by difference, or written straight.

`SqlHashListStore.import_list` opens the transaction and gathers the entries into
`EntryColumns` batches; `import_batches` writes them. Re-importing a list that has rows
changes only what differs (`safeguard.storage.sql.list_replacement`), so the indexes see
only the change; a new list is written straight with its indexes deferred
(`safeguard.storage.sql.hash_list_rows.DeferredIndexes`) when it is large.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from sqlalchemy import Connection, Table, delete, func, select

from safeguard.domain.hash_lists import HashList
from safeguard.list_formats.entry_columns import EntryColumns
from safeguard.storage.sql.entry_batches import insert_columns
from safeguard.storage.sql.hash_list_rows import DeferredIndexes
from safeguard.storage.sql.hash_list_writes import (
    bump_revision,
    drop_entries,
    list_by_id,
    recount,
    upsert_list,
)
from safeguard.storage.sql.list_replacement import (
    drop_staging,
    insert_staged,
    replace_by_difference,
    stage_entries,
)
from safeguard.storage.sql.tables_lists import hash_list_entries, hash_lists

ANALYZE_AFTER_ROWS = 50_000
"""PostgreSQL imports at least this large refresh the planner's statistics before commit."""

_e = hash_list_entries.c
_l = hash_lists.c


def import_batches(
    conn: Connection, hash_list: HashList, batches: Iterable[EntryColumns]
) -> HashList:
    """Create or replace `hash_list` with the entries of `batches`; returns the stored list.

    Entries are written in batches of columns (`insert_columns`): `ColumnarEntries` as
    the reader made them, any other entries gathered into batches. A list that has
    rows is re-imported by difference (`replace_by_difference`): unchanged entries keep
    their rows, so indexes see only what changed. A new or empty list is written
    straight, with `DeferredIndexes` for large imports.
    """
    # SQLite: read the whole file into a TEMP staging table before the first write
    # to the database itself, so its write lock is held only while the staged rows
    # are applied, not while a large file is parsed.
    staged = conn.dialect.name == "sqlite"
    if staged:
        staged_rows = stage_entries(conn, lambda c, table: _write_columns(c, batches, table))
    revision = bump_revision(conn)
    other_rows, own_rows = _row_counts(conn, hash_list.name)
    if own_rows:
        list_id = upsert_list(conn, hash_list, revision, None, keep_entries=True)
        replace_by_difference(
            conn,
            list_id,
            revision,
            lambda c, table: _write_columns(c, batches, table),
            drop_entries,
            own_rows,
            DeferredIndexes(conn, other_rows, own_rows),
            pre_staged=staged,
        )
        written = own_rows
    elif staged:
        indexes = DeferredIndexes(conn, other_rows)
        list_id = upsert_list(conn, hash_list, revision, None, indexes)
        indexes.note_rows(staged_rows)
        insert_staged(conn, list_id, revision)
        drop_staging(conn)
        indexes.restore()
        _collapse_duplicates(conn, list_id)
        written = staged_rows
    else:
        indexes = DeferredIndexes(conn, other_rows)
        list_id = upsert_list(conn, hash_list, revision, None, indexes)
        written = _write_columns(
            conn,
            batches,
            hash_list_entries,
            {"list_id": list_id, "added_revision": revision},
            before_batch=indexes.note_rows,
        )
        indexes.restore()
        _collapse_duplicates(conn, list_id)
    if written >= ANALYZE_AFTER_ROWS and conn.dialect.name == "postgresql":
        # Fresh statistics at once, rather than whenever autovacuum gets to it.
        conn.exec_driver_sql("ANALYZE hash_list_entries")
    recount(conn, list_id)
    return list_by_id(conn, list_id)


def _row_counts(conn: Connection, name: str) -> tuple[int, int]:
    """Entries held by the lists other than `name`, and by `name` (the stored counts)."""
    other = own = 0
    for list_name, count in conn.execute(select(_l.name, _l.entry_count)):
        if list_name == name:
            own = int(count)
        else:
            other += int(count)
    return other, own


def _collapse_duplicates(conn: Connection, list_id: int) -> None:
    """Keep only the last row of each `entry_id` of a freshly written list."""
    # Finding out whether any entry_id repeats is one scan of the (list_id, entry_id)
    # index; most lists have none, and the correlated delete costs several times more.
    repeated = conn.execute(
        select(_e.entry_id)
        .where(_e.list_id == list_id)
        .group_by(_e.entry_id)
        .having(func.count() > 1)
        .limit(1)
    ).first()
    if repeated is None:
        return
    later = hash_list_entries.alias("later")
    conn.execute(
        delete(hash_list_entries).where(
            _e.list_id == list_id,
            select(later.c.id)
            .where(
                later.c.list_id == _e.list_id,
                later.c.entry_id == _e.entry_id,
                later.c.id > _e.id,
            )
            .exists(),
        )
    )


def _write_columns(
    conn: Connection,
    batches: Iterable[EntryColumns],
    table: Table,
    constants: Mapping[str, object] | None = None,
    *,
    before_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert every batch into `table`; returns the rows written.

    `before_batch` is told, before each batch, how many rows will have been written
    after it (so indexes can be deferred before a large first batch, not after).
    """
    written = 0
    for batch in batches:
        if before_batch is not None:
            before_batch(written + batch.rows)
        insert_columns(conn, table, batch, constants)
        written += batch.rows
    return written
