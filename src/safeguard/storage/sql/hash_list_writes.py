"""Writes to the hash-list tables inside the caller's transaction: revision, list row, entries.

Every write first bumps the store's revision (`bump_revision`); entries leave only through
`drop_entries`, which logs them for the indexes, and come in through `write_entries` (a few
at a time) or `safeguard.storage.sql.hash_list_import` (a whole list). `SqlHashListStore`
opens the transactions and calls these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import BigInteger, Connection, Row, delete, func, insert, literal, select, update

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.storage.hash_list_store import list_on_import, normalised_entry
from safeguard.storage.sql.hash_list_rows import (
    DeferredIndexes,
    bulk_insert,
    entry_row,
    list_from_row,
)
from safeguard.storage.sql.tables_lists import (
    hash_list_entries,
    hash_list_pdq_removals,
    hash_list_removals,
    hash_list_state,
    hash_lists,
)

INSERT_BATCH = 5_000
"""Entries written per executemany; large enough to amortise round trips, small in memory."""

LIST_CHANGES_CHANNEL = "safeguard_list_changes"
"""PostgreSQL channel notified with the new revision by every committed list change."""

_e = hash_list_entries.c
_l = hash_lists.c


def chunks(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`values` in lists of `size` (the last may be shorter)."""
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bump_revision(conn: Connection) -> int:
    """Bump ``hash_list_state.revision`` and return the new revision; every write does it first.

    That takes the write lock at once (SQLite) or the row lock (PostgreSQL), so writers
    queue and revisions commit in order. On PostgreSQL it also sends the new revision on
    `LIST_CHANGES_CHANNEL`.
    """
    conn.execute(
        update(hash_list_state)
        .where(hash_list_state.c.id == 1)
        .values(revision=hash_list_state.c.revision + 1)
    )
    revision: int = conn.execute(
        select(hash_list_state.c.revision).where(hash_list_state.c.id == 1)
    ).scalar_one()
    if conn.dialect.name == "postgresql":
        # Delivered when (and only if) this transaction commits: every service replica
        # listening (`storage.sql.change_notices`) catches up at once instead of polling.
        conn.exec_driver_sql(f"NOTIFY {LIST_CHANGES_CHANNEL}, '{int(revision)}'")
    return revision


def list_row(conn: Connection, name: str) -> Row[Any] | None:
    """The row of the list named `name`, or None."""
    return conn.execute(select(hash_lists).where(_l.name == name)).first()


def require_list(conn: Connection, name: str, *, stored: bool = False) -> Row[Any]:
    """The row of the list named `name`.

    Raises:
        NotFoundError: there is no such list.
        StorageError: `stored` and the list is a reference list (it has no rows).
    """
    row = list_row(conn, name)
    if row is None:
        raise NotFoundError(f"no hash list named {name!r}")
    if stored and row.location is not None:
        raise StorageError(f"{name!r} is a reference list queried in place; it has no rows")
    return row


def list_by_id(conn: Connection, list_id: int) -> HashList:
    """The list with this row id (it must exist)."""
    return list_from_row(conn.execute(select(hash_lists).where(_l.id == list_id)).one())


def drop_entries(conn: Connection, revision: int, *conditions: Any) -> int:
    """Delete entries matching `conditions`, logging them for indexes.

    PDQ entries go to ``hash_list_pdq_removals`` (what `pdq_rows_since` reads), the
    others to ``hash_list_removals``; exact indexes read both.
    """
    removed_rows = select(_e.id, literal(revision, BigInteger()))
    for log, has_pdq in (
        (hash_list_pdq_removals, _e.pdq_bits.is_not(None)),
        (hash_list_removals, _e.pdq_bits.is_(None)),
    ):
        conn.execute(
            insert(log).from_select(
                ["row_id", "revision"], removed_rows.where(has_pdq, *conditions)
            )
        )
    return conn.execute(delete(hash_list_entries).where(*conditions)).rowcount


def write_entries(
    conn: Connection, list_id: int, revision: int, entries: Iterable[HashEntry]
) -> int:
    """Insert entries into a list that may have rows; a repeated `entry_id` replaces.

    Returns:
        Entries written, counting each `entry_id` once per batch.
    """
    written = 0
    for batch in chunks(entries, INSERT_BATCH):
        by_id = {entry.entry_id: normalised_entry(entry) for entry in batch}
        drop_entries(conn, revision, _e.list_id == list_id, _e.entry_id.in_(list(by_id)))
        bulk_insert(conn, [entry_row(list_id, revision, e) for e in by_id.values()])
        written += len(by_id)
    return written


def recount(conn: Connection, list_id: int) -> int:
    """Store the list's entry count from its rows, and return it."""
    count: int = conn.execute(
        select(func.count()).select_from(hash_list_entries).where(_e.list_id == list_id)
    ).scalar_one()
    conn.execute(update(hash_lists).where(_l.id == list_id).values(entry_count=count))
    return count


def upsert_list(
    conn: Connection,
    hash_list: HashList,
    revision: int,
    location: str | None,
    indexes: DeferredIndexes | None = None,
    *,
    keep_entries: bool = False,
) -> int:
    """Create the list row or empty the existing one (unless `keep_entries`); returns its id.

    `indexes` is told how many rows are about to be replaced, before they are deleted.
    """
    row = list_row(conn, hash_list.name)
    previous = list_from_row(row) if row is not None and location is None else None
    settings = list_on_import(hash_list, previous)
    values = {
        "kind": settings.kind.value,
        "source": settings.source,
        "version": settings.version,
        "imported_at": datetime.now(UTC),
        "pdq_threshold": settings.pdq_threshold,
        "enabled": settings.enabled,
        "action": settings.action,
        "entry_count": 0,
        "location": location,
    }
    if row is None:
        list_id: int = conn.execute(
            insert(hash_lists).values(name=hash_list.name, **values).returning(_l.id)
        ).scalar_one()
        return list_id
    if not keep_entries:
        if indexes is not None:
            indexes.note_rows(int(row.entry_count))
        drop_entries(conn, revision, _e.list_id == row.id)
    conn.execute(update(hash_lists).where(_l.id == row.id).values(**values))
    return int(row.id)
