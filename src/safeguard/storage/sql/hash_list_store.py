"""`HashListStore` on SQLAlchemy Core, for SQLite and PostgreSQL alike.

`SqlHashListStore` opens the transactions and reads lists and entries itself; the writes
inside a transaction are `hash_list_writes` (revision, list row, entries) and
`hash_list_import` (a whole list at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.storage.hash_list_store import DigestRows, PdqDelta, ReferenceList, StoredEntry
from safeguard.storage.sql.entry_batches import entry_batches
from safeguard.storage.sql.hash_list_changes import digest_rows, pdq_delta, removed_rows
from safeguard.storage.sql.hash_list_import import import_batches
from safeguard.storage.sql.hash_list_rows import (
    DIGEST_COLUMNS,
    ENTRY_COLUMNS,
    LIST_COLUMNS,
    LIST_PREFIX,
    driver_rows,
    entry_from_row,
    large_cache,
    list_from_row,
    sqlite_values,
)
from safeguard.storage.sql.hash_list_writes import (
    INSERT_BATCH,
    bump_revision,
    chunks,
    drop_entries,
    list_by_id,
    recount,
    require_list,
    upsert_list,
    write_entries,
)
from safeguard.storage.sql.tables_lists import hash_list_entries, hash_list_state, hash_lists

_LOOKUP_CHUNK = 500
"""Values per IN (...) clause; keeps every dialect well inside its bound-parameter limit."""

_REVISION_SQL = "SELECT revision FROM hash_list_state WHERE id = 1"

_STREAM_SQL = (
    f"SELECT {', '.join(column.name for column in ENTRY_COLUMNS)} FROM hash_list_entries"
    " WHERE list_id = ? ORDER BY id"
)

_e = hash_list_entries.c
_IDS_PER_QUERY = 500
"""Entry ids bound in one ``IN (...)``: far below every driver's parameter limit."""
_l = hash_lists.c


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

    # --- writes -----------------------------------------------------------------------

    def import_list(self, hash_list: HashList, entries: Iterable[HashEntry]) -> HashList:
        """Create or replace a list atomically (see `HashListStore.import_list`).

        One transaction; the entries are gathered into `EntryColumns` batches
        (`entry_batches`) and written by `hash_list_import.import_batches`.
        """
        batches = entry_batches(entries, INSERT_BATCH)
        with self._engine.begin() as conn, large_cache(conn):
            return import_batches(conn, hash_list, batches)

    def register_reference_list(self, hash_list: HashList, location: str) -> HashList:
        """Record a list queried in place, replacing any list with this name."""
        with self._engine.begin() as conn:
            revision = bump_revision(conn)
            list_id = upsert_list(conn, hash_list, revision, location)
            return list_by_id(conn, list_id)

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
            bump_revision(conn)
            row = require_list(conn, name)
            if changes:
                conn.execute(update(hash_lists).where(_l.id == row.id).values(**changes))
            return list_by_id(conn, row.id)

    def remove_list(self, name: str) -> None:
        """Delete the list and its entries."""
        with self._engine.begin() as conn:
            revision = bump_revision(conn)
            row = require_list(conn, name)
            drop_entries(conn, revision, _e.list_id == row.id)
            conn.execute(delete(hash_lists).where(_l.id == row.id))

    def add_entries(self, name: str, entries: Iterable[HashEntry]) -> int:
        """Add entries atomically; an existing `entry_id` is replaced."""
        with self._engine.begin() as conn:
            revision = bump_revision(conn)
            row = require_list(conn, name, stored=True)
            written = write_entries(conn, row.id, revision, entries)
            recount(conn, row.id)
            return written

    def remove_entries(self, name: str, entry_ids: Sequence[str]) -> int:
        """Remove entries by the list's ids; unknown ids are ignored."""
        with self._engine.begin() as conn:
            revision = bump_revision(conn)
            row = require_list(conn, name, stored=True)
            removed = 0
            for chunk in chunks(dict.fromkeys(entry_ids), _LOOKUP_CHUNK):
                removed += drop_entries(
                    conn, revision, _e.list_id == row.id, _e.entry_id.in_(chunk)
                )
            recount(conn, row.id)
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
            return list_from_row(require_list(conn, name))

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
            list_id = require_list(conn, name).id
        return self._stream_entries(list_id)

    def entries_with_ids(self, name: str, entry_ids: Sequence[str]) -> list[HashEntry]:
        """The list's entries with these ids, in the order they were stored."""
        wanted = sorted(set(entry_ids))
        found: list[StoredEntry] = []
        with self._engine.connect() as conn:
            list_id = require_list(conn, name).id
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
            for chunk in chunks(wanted, _LOOKUP_CHUNK):
                found.extend(self._stored_entries(conn, column.in_(chunk)))
        return sorted(found, key=lambda stored: stored.row_id)

    def entries_by_rows(self, row_ids: Sequence[int]) -> dict[int, StoredEntry]:
        """The entries with these row ids; ids no longer present are left out."""
        found: dict[int, StoredEntry] = {}
        with self._reading() as conn:
            for chunk in chunks(sorted(set(row_ids)), _LOOKUP_CHUNK):
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
