"""`HashListStore` on SQLAlchemy Core, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Row,
    Table,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError, NotFoundError, StorageError
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.list_formats.entry_columns import EntryColumns
from safeguard.storage.hash_list_store import (
    DigestRows,
    PdqDelta,
    ReferenceList,
    StoredEntry,
    list_on_import,
    normalised_entry,
)
from safeguard.storage.sql.entry_batches import entry_batches, insert_columns
from safeguard.storage.sql.hash_list_changes import digest_rows, pdq_delta, removed_rows
from safeguard.storage.sql.hash_list_rows import (
    DIGEST_COLUMNS,
    ENTRY_COLUMNS,
    LIST_COLUMNS,
    LIST_PREFIX,
    DeferredIndexes,
    bulk_insert,
    driver_rows,
    entry_from_row,
    entry_row,
    large_cache,
    list_from_row,
    sqlite_values,
)
from safeguard.storage.sql.list_replacement import (
    drop_staging,
    insert_staged,
    replace_by_difference,
    stage_entries,
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

ANALYZE_AFTER_ROWS = 50_000
"""PostgreSQL imports at least this large refresh the planner's statistics before commit."""

_LOOKUP_CHUNK = 500
"""Values per IN (...) clause; keeps every dialect well inside its bound-parameter limit."""

_REVISION_SQL = "SELECT revision FROM hash_list_state WHERE id = 1"

_STREAM_SQL = (
    f"SELECT {', '.join(column.name for column in ENTRY_COLUMNS)} FROM hash_list_entries"
    " WHERE list_id = ? ORDER BY id"
)

LIST_CHANGES_CHANNEL = "safeguard_list_changes"
"""PostgreSQL channel notified with the new revision by every committed list change."""

_e = hash_list_entries.c
_IDS_PER_QUERY = 500
"""Entry ids bound in one ``IN (...)``: far below every driver's parameter limit."""
_l = hash_lists.c


def _chunks(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SqlHashListStore:
    """Hash lists in the tables of `tables_lists`; every write is one transaction.

    Each write first bumps ``hash_list_state.revision``: that takes the write lock at once
    (SQLite) or the row lock (PostgreSQL), so writers queue and revisions commit in order.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _reading(self) -> Connection:
        """A pooled connection for reads of one statement at a time.

        On PostgreSQL in autocommit: that saves the BEGIN and ROLLBACK round trips, which
        cost more than a lookup. SQLite starts no transaction for a SELECT anyway, and
        switching its isolation level costs more than the lookup.
        """
        conn = self._engine.connect()
        if conn.dialect.name == "postgresql":
            return conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    def _bump(conn: Connection) -> int:
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

    @staticmethod
    def _list_row(conn: Connection, name: str) -> Row[Any] | None:
        return conn.execute(select(hash_lists).where(_l.name == name)).first()

    def _require(self, conn: Connection, name: str, *, stored: bool = False) -> Row[Any]:
        row = self._list_row(conn, name)
        if row is None:
            raise NotFoundError(f"no hash list named {name!r}")
        if stored and row.location is not None:
            raise StorageError(f"{name!r} is a reference list queried in place; it has no rows")
        return row

    @staticmethod
    def _drop_entries(conn: Connection, revision: int, *conditions: Any) -> int:
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

    def _write_entries(
        self, conn: Connection, list_id: int, revision: int, entries: Iterable[HashEntry]
    ) -> int:
        """Insert entries into a list that may have rows; a repeated `entry_id` replaces.

        Returns:
            Entries written, counting each `entry_id` once per batch.
        """
        written = 0
        for batch in _chunks(entries, INSERT_BATCH):
            by_id = {entry.entry_id: normalised_entry(entry) for entry in batch}
            self._drop_entries(conn, revision, _e.list_id == list_id, _e.entry_id.in_(list(by_id)))
            bulk_insert(conn, [entry_row(list_id, revision, e) for e in by_id.values()])
            written += len(by_id)
        return written

    @staticmethod
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

    @staticmethod
    def _recount(conn: Connection, list_id: int) -> int:
        count: int = conn.execute(
            select(func.count()).select_from(hash_list_entries).where(_e.list_id == list_id)
        ).scalar_one()
        conn.execute(update(hash_lists).where(_l.id == list_id).values(entry_count=count))
        return count

    def _list_by_id(self, conn: Connection, list_id: int) -> HashList:
        return list_from_row(conn.execute(select(hash_lists).where(_l.id == list_id)).one())

    # --- writes -----------------------------------------------------------------------

    def _upsert_list(
        self,
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
        row = self._list_row(conn, hash_list.name)
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
            self._drop_entries(conn, revision, _e.list_id == row.id)
        conn.execute(update(hash_lists).where(_l.id == row.id).values(**values))
        return int(row.id)

    @staticmethod
    def _row_counts(conn: Connection, name: str) -> tuple[int, int]:
        """Entries held by the lists other than `name`, and by `name` (the stored counts)."""
        other = own = 0
        for list_name, count in conn.execute(select(_l.name, _l.entry_count)):
            if list_name == name:
                own = int(count)
            else:
                other += int(count)
        return other, own

    def import_list(self, hash_list: HashList, entries: Iterable[HashEntry]) -> HashList:
        """Create or replace a list atomically (see `HashListStore.import_list`).

        Entries are written in batches of columns (`insert_columns`): `ColumnarEntries` as
        the reader made them, any other entries gathered into batches. A list that has
        rows is re-imported by difference (`replace_by_difference`): unchanged entries keep
        their rows, so indexes see only what changed. A new or empty list is written
        straight, with `DeferredIndexes` for large imports.
        """
        batches = entry_batches(entries, INSERT_BATCH)
        with self._engine.begin() as conn, large_cache(conn):
            # SQLite: read the whole file into a TEMP staging table before the first write
            # to the database itself, so its write lock is held only while the staged rows
            # are applied, not while a large file is parsed.
            staged = conn.dialect.name == "sqlite"
            if staged:
                staged_rows = stage_entries(
                    conn, lambda c, table: self._write_columns(c, batches, table)
                )
            revision = self._bump(conn)
            other_rows, own_rows = self._row_counts(conn, hash_list.name)
            if own_rows:
                list_id = self._upsert_list(conn, hash_list, revision, None, keep_entries=True)
                replace_by_difference(
                    conn,
                    list_id,
                    revision,
                    lambda c, table: self._write_columns(c, batches, table),
                    self._drop_entries,
                    own_rows,
                    DeferredIndexes(conn, other_rows, own_rows),
                    pre_staged=staged,
                )
                written = own_rows
            elif staged:
                indexes = DeferredIndexes(conn, other_rows)
                list_id = self._upsert_list(conn, hash_list, revision, None, indexes)
                indexes.note_rows(staged_rows)
                insert_staged(conn, list_id, revision)
                drop_staging(conn)
                indexes.restore()
                self._collapse_duplicates(conn, list_id)
                written = staged_rows
            else:
                indexes = DeferredIndexes(conn, other_rows)
                list_id = self._upsert_list(conn, hash_list, revision, None, indexes)
                written = self._write_columns(
                    conn,
                    batches,
                    hash_list_entries,
                    {"list_id": list_id, "added_revision": revision},
                    before_batch=indexes.note_rows,
                )
                indexes.restore()
                self._collapse_duplicates(conn, list_id)
            if written >= ANALYZE_AFTER_ROWS and conn.dialect.name == "postgresql":
                # Fresh statistics at once, rather than whenever autovacuum gets to it.
                conn.exec_driver_sql("ANALYZE hash_list_entries")
            self._recount(conn, list_id)
            return self._list_by_id(conn, list_id)

    @staticmethod
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

    def register_reference_list(self, hash_list: HashList, location: str) -> HashList:
        """Record a list queried in place, replacing any list with this name."""
        with self._engine.begin() as conn:
            revision = self._bump(conn)
            list_id = self._upsert_list(conn, hash_list, revision, location)
            return self._list_by_id(conn, list_id)

    def update_list(
        self,
        name: str,
        *,
        enabled: bool | None = None,
        pdq_threshold: int | None = None,
        action: str | None = None,
    ) -> HashList:
        """Change the given settings (None leaves a setting as it is)."""
        changes = {
            key: value
            for key, value in (
                ("enabled", enabled),
                ("pdq_threshold", pdq_threshold),
                ("action", action),
            )
            if value is not None
        }
        with self._engine.begin() as conn:
            self._bump(conn)
            row = self._require(conn, name)
            if changes:
                conn.execute(update(hash_lists).where(_l.id == row.id).values(**changes))
            return self._list_by_id(conn, row.id)

    def remove_list(self, name: str) -> None:
        """Delete the list and its entries."""
        with self._engine.begin() as conn:
            revision = self._bump(conn)
            row = self._require(conn, name)
            self._drop_entries(conn, revision, _e.list_id == row.id)
            conn.execute(delete(hash_lists).where(_l.id == row.id))

    def add_entries(self, name: str, entries: Iterable[HashEntry]) -> int:
        """Add entries atomically; an existing `entry_id` is replaced."""
        with self._engine.begin() as conn:
            revision = self._bump(conn)
            row = self._require(conn, name, stored=True)
            written = self._write_entries(conn, row.id, revision, entries)
            self._recount(conn, row.id)
            return written

    def remove_entries(self, name: str, entry_ids: Sequence[str]) -> int:
        """Remove entries by the list's ids; unknown ids are ignored."""
        with self._engine.begin() as conn:
            revision = self._bump(conn)
            row = self._require(conn, name, stored=True)
            removed = 0
            for chunk in _chunks(dict.fromkeys(entry_ids), _LOOKUP_CHUNK):
                removed += self._drop_entries(
                    conn, revision, _e.list_id == row.id, _e.entry_id.in_(chunk)
                )
            self._recount(conn, row.id)
            return removed

    # --- reads ------------------------------------------------------------------------

    def store_identity(self) -> str:
        """A random id fixed when the schema was created."""
        with self._engine.connect() as conn:
            identity: str = conn.execute(
                select(hash_list_state.c.store_identity).where(hash_list_state.c.id == 1)
            ).scalar_one()
            return identity

    def get_list(self, name: str) -> HashList:
        """The list with this name."""
        with self._engine.connect() as conn:
            return list_from_row(self._require(conn, name))

    def all_lists(self) -> list[HashList]:
        """Every list, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(hash_lists).order_by(_l.name)).all()
            return [list_from_row(row) for row in rows]

    def reference_lists(self) -> list[ReferenceList]:
        """The lists queried in place, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(hash_lists).where(_l.location.is_not(None)).order_by(_l.name)
            ).all()
            return [ReferenceList(list_from_row(row), row.location) for row in rows]

    def iter_entries(self, name: str) -> Iterator[HashEntry]:
        """Stream the list's entries in the order they were stored."""
        with self._engine.connect() as conn:
            list_id = self._require(conn, name).id
        return self._stream_entries(list_id)

    def entries_with_ids(self, name: str, entry_ids: Sequence[str]) -> list[HashEntry]:
        """The list's entries with these ids, in the order they were stored."""
        wanted = sorted(set(entry_ids))
        found: list[StoredEntry] = []
        with self._engine.connect() as conn:
            list_id = self._require(conn, name).id
            for start in range(0, len(wanted), _IDS_PER_QUERY):
                chunk = wanted[start : start + _IDS_PER_QUERY]
                found.extend(
                    self._stored_entries(conn, _e.list_id == list_id, _e.entry_id.in_(chunk))
                )
        return [stored.entry for stored in sorted(found, key=lambda stored: stored.row_id)]

    def _stream_entries(self, list_id: int) -> Iterator[HashEntry]:
        # Straight from the driver in batches (`driver_rows`): a whole list is read by
        # exports and by retroactive matching, and SQLAlchemy's result rows cost more per
        # row than building the entry. The cursor (server-side on PostgreSQL) is closed
        # even when the caller stops early.
        with self._engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            for batch in driver_rows(conn, _STREAM_SQL, (list_id,)):
                for row in batch:
                    yield entry_from_row(sqlite_values(row) if sqlite else row)

    @staticmethod
    def _stored_entries(conn: Connection, *conditions: Any) -> Iterator[StoredEntry]:
        lists: dict[int, HashList] = {}
        rows = conn.execute(
            select(*ENTRY_COLUMNS, *LIST_COLUMNS)
            .join_from(hash_list_entries, hash_lists, _l.id == _e.list_id)
            .where(*conditions)
            .order_by(_e.id)
        ).all()
        for row in rows:
            list_id = row._mapping[LIST_PREFIX + "id"]
            if list_id not in lists:
                lists[list_id] = list_from_row(row, LIST_PREFIX)
            yield StoredEntry(row.id, lists[list_id], entry_from_row(row))

    def find_exact(self, algorithm: HashAlgorithm, values: Sequence[str]) -> list[StoredEntry]:
        """Entries of every stored list with one of these digests or PhotoDNA values (equal)."""
        if algorithm not in CRYPTOGRAPHIC_ALGORITHMS and algorithm is not HashAlgorithm.PHOTODNA:
            raise InvalidDigestError(f"{algorithm.value} is not an exact-match digest")
        wanted = sorted({normalise_digest(algorithm, value) for value in values})
        column = hash_list_entries.c[DIGEST_COLUMNS[algorithm]]
        found: list[StoredEntry] = []
        with self._reading() as conn:
            for chunk in _chunks(wanted, _LOOKUP_CHUNK):
                found.extend(self._stored_entries(conn, column.in_(chunk)))
        return sorted(found, key=lambda stored: stored.row_id)

    def entries_by_rows(self, row_ids: Sequence[int]) -> dict[int, StoredEntry]:
        """The entries with these row ids; ids no longer present are left out."""
        found: dict[int, StoredEntry] = {}
        with self._reading() as conn:
            for chunk in _chunks(sorted(set(row_ids)), _LOOKUP_CHUNK):
                for stored in self._stored_entries(conn, _e.id.in_(chunk)):
                    found[stored.row_id] = stored
        return found

    def current_revision(self) -> int:
        """The revision of the last committed write.

        Called before every match, so it takes the shortest path: a pooled connection in
        autocommit (no BEGIN/ROLLBACK round trips on PostgreSQL) and a plain SQL string
        (nothing to compile).
        """
        with self._reading() as conn:
            return int(conn.exec_driver_sql(_REVISION_SQL).scalar_one())

    @staticmethod
    def _revision(conn: Connection) -> int:
        revision: int = conn.execute(
            select(hash_list_state.c.revision).where(hash_list_state.c.id == 1)
        ).scalar_one()
        if conn.dialect.name == "postgresql":
            # Delivered when (and only if) this transaction commits: every service replica
            # listening (`storage.sql.change_notices`) catches up at once instead of polling.
            conn.exec_driver_sql(f"NOTIFY {LIST_CHANGES_CHANNEL}, '{int(revision)}'")
        return revision

    def pdq_rows_since(self, revision: int) -> PdqDelta:
        """The PDQ changes after `revision`, up to the revision read first."""
        with self._engine.connect() as conn:
            # Rows committed after this read carry a later revision and wait for next time.
            return pdq_delta(conn, revision, self._revision(conn))

    def digest_rows_between(self, algorithm: HashAlgorithm, after: int, upto: int) -> DigestRows:
        """Entries still present, added in revisions ``after < r <= upto``, with this digest."""
        if algorithm not in CRYPTOGRAPHIC_ALGORITHMS:
            raise InvalidDigestError(f"{algorithm.value} is not an exact-match digest")
        with self._engine.connect() as conn:
            return digest_rows(conn, DIGEST_COLUMNS[algorithm], after, upto)

    def removed_rows_between(self, after: int, upto: int) -> Sequence[int]:
        """Row ids of entries (with any digest) removed in revisions ``after < r <= upto``."""
        with self._engine.connect() as conn:
            return removed_rows(conn, after, upto, pdq_only=False)
