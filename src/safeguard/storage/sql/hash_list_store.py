"""`HashListStore` on SQLAlchemy Core, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Row,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError, NotFoundError, StorageError
from safeguard.domain.hash_lists import Category, HashEntry, HashList, ListKind, Provenance
from safeguard.storage.hash_list_store import (
    PdqDelta,
    ReferenceList,
    StoredEntry,
    list_on_import,
    normalised_entry,
)
from safeguard.storage.sql.tables_lists import (
    hash_list_entries,
    hash_list_pdq_removals,
    hash_list_state,
    hash_lists,
)

INSERT_BATCH = 5_000
"""Entries written per executemany; large enough to amortise round trips, small in memory."""

IMPORT_CACHE_KIB = 256 * 1024
"""SQLite page cache for imports, in KiB (memory is only taken as pages are used)."""

_LOOKUP_CHUNK = 500
"""Values per IN (...) clause; keeps every dialect well inside its bound-parameter limit."""

_DIGEST_COLUMNS: dict[HashAlgorithm, str] = {
    HashAlgorithm.MD5: "md5",
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.SHA256: "sha256",
    HashAlgorithm.PDQ: "pdq",
    HashAlgorithm.PHOTODNA: "photodna",
}

_e = hash_list_entries.c
_l = hash_lists.c


def _chunks(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _list_from_row(row: Row[Any], prefix: str = "") -> HashList:
    mapping = row._mapping
    return HashList(
        name=mapping[prefix + "name"],
        kind=ListKind(mapping[prefix + "kind"]),
        source=mapping[prefix + "source"],
        version=mapping[prefix + "version"],
        imported_at=_aware(mapping[prefix + "imported_at"]),
        pdq_threshold=mapping[prefix + "pdq_threshold"],
        enabled=bool(mapping[prefix + "enabled"]),
        action=mapping[prefix + "action"],
        entry_count=mapping[prefix + "entry_count"],
    )


_LIST_PREFIX = "list_"
_LIST_COLUMNS = [column.label(_LIST_PREFIX + column.name) for column in hash_lists.c]


_INSERT_COLUMNS: tuple[str, ...] = (
    "list_id",
    "entry_id",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_bits",
    "photodna",
    "category_scheme",
    "category_code",
    "category_label",
    "source_record_id",
    "series",
    "victim_identified",
    "first_seen",
    "last_seen",
    "notes",
    "file_name",
    "size",
    "added_revision",
)


def _entry_row(list_id: int, revision: int, entry: HashEntry) -> tuple[Any, ...]:
    """Values in the order of `_INSERT_COLUMNS`."""
    digests = entry.digests
    pdq = digests.get(HashAlgorithm.PDQ)
    category = entry.category
    provenance = entry.provenance
    return (
        list_id,
        entry.entry_id,
        digests.get(HashAlgorithm.MD5),
        digests.get(HashAlgorithm.SHA1),
        digests.get(HashAlgorithm.SHA256),
        pdq,
        bytes.fromhex(pdq) if pdq else None,
        digests.get(HashAlgorithm.PHOTODNA),
        category.scheme,
        category.code,
        category.label,
        provenance.source_record_id,
        provenance.series,
        provenance.victim_identified,
        provenance.first_seen,
        provenance.last_seen,
        provenance.notes,
        entry.file_name,
        entry.size,
        revision,
    )


_DATE_POSITIONS = (_INSERT_COLUMNS.index("first_seen"), _INSERT_COLUMNS.index("last_seen"))


def _bulk_insert(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert entry rows with the fastest path the driver has, inside `conn`'s transaction.

    SQLAlchemy's executemany costs more per row than SQLite itself; psycopg's COPY is an
    order of magnitude faster than INSERT on PostgreSQL. Other drivers take the generic path.
    """
    if not rows:
        return
    columns = ", ".join(_INSERT_COLUMNS)
    dialect = conn.dialect
    dbapi_connection: Any = conn.connection.dbapi_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        with (
            dbapi_connection.cursor() as cursor,
            cursor.copy(f"COPY hash_list_entries ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    elif dialect.name == "sqlite":
        # Dates as ISO text, as SQLAlchemy's Date type stores and parses them on SQLite.
        if any(row[i] is not None for row in rows for i in _DATE_POSITIONS):
            rows = [_with_iso_dates(row) for row in rows]
        marks = ", ".join("?" * len(_INSERT_COLUMNS))
        cursor = dbapi_connection.cursor()
        try:
            cursor.executemany(f"INSERT INTO hash_list_entries ({columns}) VALUES ({marks})", rows)
        finally:
            cursor.close()
    else:
        conn.execute(
            insert(hash_list_entries),
            [dict(zip(_INSERT_COLUMNS, row, strict=True)) for row in rows],
        )


@contextmanager
def _large_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a big page cache while a large import runs, then the default again.

    Each entry lands at a random place in three digest indexes; with SQLite's default 2 MB
    cache most of those inserts miss it, which about halves import speed.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA cache_size=-2000")


def _with_iso_dates(row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    for position in _DATE_POSITIONS:
        if values[position] is not None:
            values[position] = values[position].isoformat()
    return tuple(values)


def _entry_from_row(row: Row[Any] | Any) -> HashEntry:
    mapping = row._mapping
    digests = {
        algorithm: mapping[column]
        for algorithm, column in _DIGEST_COLUMNS.items()
        if mapping[column] is not None
    }
    return HashEntry(
        entry_id=row.entry_id,
        digests=digests,
        category=Category(row.category_scheme, row.category_code, row.category_label),
        provenance=Provenance(
            source_record_id=row.source_record_id,
            series=row.series,
            victim_identified=row.victim_identified,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            notes=row.notes,
        ),
        file_name=row.file_name,
        size=row.size,
    )


_ENTRY_COLUMNS = [
    column for column in hash_list_entries.c if column.name not in ("list_id", "pdq_bits")
]


class SqlHashListStore:
    """Hash lists in the tables of `tables_lists`; every write is one transaction.

    Each write first bumps ``hash_list_state.revision``: that takes the write lock at once
    (SQLite) or the row lock (PostgreSQL), so writers queue and revisions commit in order.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        """Delete entries matching `conditions`, logging the PDQ ones for indexes."""
        pdq_rows = select(_e.id, literal(revision, BigInteger()))
        conn.execute(
            insert(hash_list_pdq_removals).from_select(
                ["row_id", "revision"], pdq_rows.where(_e.pdq_bits.is_not(None), *conditions)
            )
        )
        return conn.execute(delete(hash_list_entries).where(*conditions)).rowcount

    def _write_entries(
        self,
        conn: Connection,
        list_id: int,
        revision: int,
        entries: Iterable[HashEntry],
        *,
        fresh: bool = False,
    ) -> int:
        """Insert entries; a later entry replaces an earlier one with the same `entry_id`.

        `fresh` says the list has no rows yet in this transaction: no row can be replaced
        but one written by an earlier batch, so duplicates are removed once at the end
        instead of being looked for before every batch.

        Returns:
            Entries written, counting each `entry_id` once per batch.
        """
        batches = written = 0
        for batch in _chunks(entries, INSERT_BATCH):
            batches += 1
            by_id = {entry.entry_id: normalised_entry(entry) for entry in batch}
            if not fresh:
                self._drop_entries(
                    conn, revision, _e.list_id == list_id, _e.entry_id.in_(list(by_id))
                )
            _bulk_insert(conn, [_entry_row(list_id, revision, e) for e in by_id.values()])
            written += len(by_id)
        if fresh and batches > 1:
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
        return written

    @staticmethod
    def _recount(conn: Connection, list_id: int) -> int:
        count: int = conn.execute(
            select(func.count()).select_from(hash_list_entries).where(_e.list_id == list_id)
        ).scalar_one()
        conn.execute(update(hash_lists).where(_l.id == list_id).values(entry_count=count))
        return count

    def _list_by_id(self, conn: Connection, list_id: int) -> HashList:
        return _list_from_row(conn.execute(select(hash_lists).where(_l.id == list_id)).one())

    # --- writes -----------------------------------------------------------------------

    def _upsert_list(
        self, conn: Connection, hash_list: HashList, revision: int, location: str | None
    ) -> int:
        """Create the list row or empty the existing one; returns its id."""
        row = self._list_row(conn, hash_list.name)
        previous = _list_from_row(row) if row is not None and location is None else None
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
        self._drop_entries(conn, revision, _e.list_id == row.id)
        conn.execute(update(hash_lists).where(_l.id == row.id).values(**values))
        return int(row.id)

    def import_list(self, hash_list: HashList, entries: Iterable[HashEntry]) -> HashList:
        """Create or replace a list atomically (see `HashListStore.import_list`)."""
        with self._engine.begin() as conn, _large_cache(conn):
            revision = self._bump(conn)
            list_id = self._upsert_list(conn, hash_list, revision, None)
            self._write_entries(conn, list_id, revision, entries, fresh=True)
            self._recount(conn, list_id)
            return self._list_by_id(conn, list_id)

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
            return _list_from_row(self._require(conn, name))

    def all_lists(self) -> list[HashList]:
        """Every list, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(hash_lists).order_by(_l.name)).all()
            return [_list_from_row(row) for row in rows]

    def reference_lists(self) -> list[ReferenceList]:
        """The lists queried in place, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(hash_lists).where(_l.location.is_not(None)).order_by(_l.name)
            ).all()
            return [ReferenceList(_list_from_row(row), row.location) for row in rows]

    def iter_entries(self, name: str) -> Iterator[HashEntry]:
        """Stream the list's entries in the order they were stored."""
        with self._engine.connect() as conn:
            list_id = self._require(conn, name).id
        return self._stream_entries(list_id)

    def _stream_entries(self, list_id: int) -> Iterator[HashEntry]:
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=INSERT_BATCH).execute(
                select(*_ENTRY_COLUMNS).where(_e.list_id == list_id).order_by(_e.id)
            )
            for row in result:
                yield _entry_from_row(row)

    @staticmethod
    def _stored_entries(conn: Connection, *conditions: Any) -> Iterator[StoredEntry]:
        lists: dict[int, HashList] = {}
        rows = conn.execute(
            select(*_ENTRY_COLUMNS, *_LIST_COLUMNS)
            .join_from(hash_list_entries, hash_lists, _l.id == _e.list_id)
            .where(*conditions)
            .order_by(_e.id)
        ).all()
        for row in rows:
            list_id = row._mapping[_LIST_PREFIX + "id"]
            if list_id not in lists:
                lists[list_id] = _list_from_row(row, _LIST_PREFIX)
            yield StoredEntry(row.id, lists[list_id], _entry_from_row(row))

    def find_exact(self, algorithm: HashAlgorithm, values: Sequence[str]) -> list[StoredEntry]:
        """Entries of every stored list with one of these cryptographic digests."""
        if algorithm not in CRYPTOGRAPHIC_ALGORITHMS:
            raise InvalidDigestError(f"{algorithm.value} is not an exact-match digest")
        wanted = sorted({normalise_digest(algorithm, value) for value in values})
        column = hash_list_entries.c[_DIGEST_COLUMNS[algorithm]]
        found: list[StoredEntry] = []
        with self._engine.connect() as conn:
            for chunk in _chunks(wanted, _LOOKUP_CHUNK):
                found.extend(self._stored_entries(conn, column.in_(chunk)))
        return sorted(found, key=lambda stored: stored.row_id)

    def entries_by_rows(self, row_ids: Sequence[int]) -> dict[int, StoredEntry]:
        """The entries with these row ids; ids no longer present are left out."""
        found: dict[int, StoredEntry] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(sorted(set(row_ids)), _LOOKUP_CHUNK):
                for stored in self._stored_entries(conn, _e.id.in_(chunk)):
                    found[stored.row_id] = stored
        return found

    def current_revision(self) -> int:
        """The revision of the last committed write."""
        with self._engine.connect() as conn:
            return self._revision(conn)

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
            upto = self._revision(conn)
            added = conn.execute(
                select(_e.id, _e.pdq_bits)
                .where(
                    _e.pdq_bits.is_not(None),
                    _e.added_revision > revision,
                    _e.added_revision <= upto,
                )
                .order_by(_e.id)
            )
            ids = array("q")
            codes: list[bytes] = []
            for row_id, bits in added:
                ids.append(row_id)
                codes.append(bytes(bits))
            removed = array(
                "q",
                conn.execute(
                    select(hash_list_pdq_removals.c.row_id)
                    .where(
                        hash_list_pdq_removals.c.revision > revision,
                        hash_list_pdq_removals.c.revision <= upto,
                    )
                    .order_by(hash_list_pdq_removals.c.row_id)
                ).scalars(),
            )
        return PdqDelta(ids, b"".join(codes), removed, upto)
