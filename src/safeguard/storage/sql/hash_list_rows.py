"""Rows of the hash-list tables: converting them to and from the domain, and writing many fast.

`SqlHashListStore` (with its `hash_list_writes` and `hash_list_import`) is the only user; this
module holds the column-level detail so the store reads as transactions and queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, insert

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import Category, HashEntry, HashList, ListKind, Provenance
from safeguard.storage.sql.tables_lists import hash_list_entries, hash_lists

IMPORT_CACHE_KIB = 256 * 1024
"""SQLite page cache for imports, in KiB (memory is only taken as pages are used)."""

DIGEST_COLUMNS: dict[HashAlgorithm, str] = {
    HashAlgorithm.MD5: "md5",
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.SHA256: "sha256",
    HashAlgorithm.PDQ: "pdq",
    HashAlgorithm.PHOTODNA: "photodna",
}


def aware(moment: datetime | None) -> datetime | None:
    """A timestamp read back, with its UTC zone restored where the driver dropped it."""
    # SQLite hands timestamps back without a zone; they were written in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def list_from_row(row: Row[Any], prefix: str = "") -> HashList:
    """A `HashList` from a ``hash_lists`` row, its columns named with `prefix` in front."""
    mapping = row._mapping
    return HashList(
        name=mapping[prefix + "name"],
        kind=ListKind(mapping[prefix + "kind"]),
        source=mapping[prefix + "source"],
        version=mapping[prefix + "version"],
        imported_at=aware(mapping[prefix + "imported_at"]),
        pdq_threshold=mapping[prefix + "pdq_threshold"],
        enabled=bool(mapping[prefix + "enabled"]),
        action=mapping[prefix + "action"],
        entry_count=mapping[prefix + "entry_count"],
    )


LIST_PREFIX = "list_"
LIST_COLUMNS = [column.label(LIST_PREFIX + column.name) for column in hash_lists.c]
"""The ``hash_lists`` columns labelled ``list_<name>``, for selecting them beside an entry."""


INSERT_COLUMNS: tuple[str, ...] = (
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


def entry_row(list_id: int, revision: int, entry: HashEntry) -> tuple[Any, ...]:
    """Values in the order of `INSERT_COLUMNS`."""
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


_DATE_POSITIONS = (INSERT_COLUMNS.index("first_seen"), INSERT_COLUMNS.index("last_seen"))


def bulk_insert(conn: Connection, rows: list[tuple[Any, ...]], table: Table | None = None) -> None:
    """Insert entry rows with the fastest path the driver has, inside `conn`'s transaction.

    SQLAlchemy's executemany costs more per row than SQLite itself; psycopg's COPY is an
    order of magnitude faster than INSERT on PostgreSQL. Other drivers take the generic path.

    Args:
        conn: the connection, in its transaction.
        rows: values in the order of `INSERT_COLUMNS`.
        table: where to insert: ``hash_list_entries`` (None) or a table with the same
            columns (a staging table).
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite" and any(
        row[i] is not None for row in rows for i in _DATE_POSITIONS
    ):
        # Dates as ISO text, as SQLAlchemy's Date type stores and parses them on SQLite.
        rows = [_with_iso_dates(row) for row in rows]
    send_rows(conn, hash_list_entries if table is None else table, INSERT_COLUMNS, rows)


def send_rows(
    conn: Connection, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert `rows` (values in the order of `names`) into `table`, in `conn`'s transaction.

    The driver's fastest path: ``COPY`` with psycopg on PostgreSQL, the DB-API's
    executemany on SQLite (SQLAlchemy's costs more per row than SQLite itself), SQLAlchemy's
    insert on other drivers. Values go to the driver as they are: dates on SQLite as text.
    """
    columns = ", ".join(names)
    dialect = conn.dialect
    dbapi_connection: Any = conn.connection.dbapi_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        with (
            dbapi_connection.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    elif dialect.name == "sqlite":
        marks = ", ".join("?" * len(names))
        cursor = dbapi_connection.cursor()
        try:
            cursor.executemany(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", rows)
        finally:
            cursor.close()
    else:
        conn.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])


DEFER_INDEXES_AFTER_ROWS = 20_000
"""SQLite imports writing at least this many rows (and as many as the other lists hold)
drop the entry table's secondary indexes and build them again at the end."""


SORT_MEMORY = "256MB"
"""PostgreSQL's ``maintenance_work_mem`` while a deferred import builds its indexes."""


class DeferredIndexes:
    """Drops the secondary indexes of ``hash_list_entries`` during a large import.

    Inserting rows at random places in five B-trees is most of a large import's cost (and
    deleting the rows of a replaced list, where the caller replaces, costs the same again);
    building each index once at the end sorts instead. Building covers every row of the
    table, so this only pays when the import writes (or replaces) at least as many rows as
    the other lists hold: the threshold is `DEFER_INDEXES_AFTER_ROWS` or the other lists'
    rows, whichever is more. `SqlHashListStore.import_list` uses it for new lists only;
    re-imports go by difference (`list_replacement`).
    Both steps run inside the import's transaction, so a failed import leaves the indexes
    as they were.

    On SQLite, readers in WAL mode keep seeing the committed table and indexes meanwhile.
    On PostgreSQL dropping an index locks every reader of the table out until the import
    commits, so it is only done when the table holds no rows at all (the first import of
    a database): there is then nothing a reader could be waiting for. There the foreign
    key to ``hash_lists`` is dropped too and added back (checked in one pass) at the end.

    Args:
        conn: the import's connection, in its transaction.
        other_rows: rows held by the other lists.
        own_rows: rows the list holds now (replaced by the import).
    """

    def __init__(self, conn: Connection, other_rows: int, own_rows: int = 0) -> None:
        self._conn = conn
        dialect = conn.dialect.name
        self._enabled = dialect == "sqlite" or (
            dialect == "postgresql" and other_rows == 0 and own_rows == 0
        )
        self.threshold = max(DEFER_INDEXES_AFTER_ROWS, other_rows)
        self.deferred = False
        self._foreign_keys: list[tuple[str, str]] = []

    def would_defer(self, rows: int) -> bool:
        """Whether `note_rows(rows)` would drop the indexes (or they are dropped already)."""
        return self.deferred or (self._enabled and rows >= self.threshold)

    def note_rows(self, rows: int) -> None:
        """Defer the indexes once `rows` (written or about to be) reach the threshold."""
        if self._enabled and not self.deferred and rows >= self.threshold:
            for index in sorted(hash_list_entries.indexes, key=lambda ix: str(ix.name)):
                index.drop(self._conn)
            if self._conn.dialect.name == "postgresql":
                self._drop_foreign_keys()
            self.deferred = True

    def _drop_foreign_keys(self) -> None:
        # PostgreSQL checks a foreign key with one query per inserted row, which costs
        # more than the COPY itself; adding the constraint back checks every row in one
        # join. Read from the catalogue, so the constraint returns exactly as it was.
        self._foreign_keys = [
            (str(name), str(definition))
            for name, definition in self._conn.exec_driver_sql(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = 'hash_list_entries'::regclass AND contype = 'f'"
            )
        ]
        for name, _ in self._foreign_keys:
            self._conn.exec_driver_sql(f'ALTER TABLE hash_list_entries DROP CONSTRAINT "{name}"')

    def restore(self) -> None:
        """Build the dropped indexes (and foreign keys) again, before anything needs them."""
        if self.deferred:
            if self._conn.dialect.name == "postgresql":
                # Sorting in memory rather than in temporary files; only for this transaction.
                self._conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{SORT_MEMORY}'")
            for index in sorted(hash_list_entries.indexes, key=lambda ix: str(ix.name)):
                index.create(self._conn)
            for name, definition in self._foreign_keys:
                self._conn.exec_driver_sql(
                    f'ALTER TABLE hash_list_entries ADD CONSTRAINT "{name}" {definition}'
                )
            self._foreign_keys = []
            self.deferred = False


@contextmanager
def large_cache(conn: Connection) -> Iterator[None]:
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


READ_BATCH = 10_000
"""Rows fetched from the driver at a time by `driver_rows`."""


def driver_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> Iterator[list[Any]]:
    """The rows of a large read in batches, straight from the driver.

    Index builds read millions of (id, digest) rows; SQLAlchemy's result rows cost more per
    row than the database does. On PostgreSQL a server-side cursor keeps memory flat.

    Args:
        conn: a connection (in a transaction on PostgreSQL, which server-side cursors need).
        sql: the query, with ``?`` for each parameter.
        params: the parameters.
    """
    dbapi_connection: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        cursor = dbapi_connection.cursor()
    else:
        sql = sql.replace("?", "%s")
        named = conn.dialect.driver == "psycopg"
        name = f"safeguard_read_{uuid.uuid4().hex[:12]}"
        cursor = dbapi_connection.cursor(name=name) if named else dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(READ_BATCH):
            yield batch
    finally:
        cursor.close()


_NO_PROVENANCE = Provenance()
_CATEGORIES: dict[tuple[str, str, str], Category] = {}


def entry_from_row(row: Sequence[Any]) -> HashEntry:
    """A `HashEntry` from a row whose first columns are `ENTRY_COLUMNS`, in that order.

    Read by position (a name lookup on a SQLAlchemy row costs more than the rest of the
    conversion); entries of a list share their category and empty provenance objects.
    """
    (
        _,
        entry_id,
        md5,
        sha1,
        sha256,
        pdq,
        photodna,
        scheme,
        code,
        label,
        record,
        series,
        victim,
        first_seen,
        last_seen,
        notes,
        file_name,
        size,
    ) = row[:18]
    digests: dict[HashAlgorithm, str] = {}
    if md5 is not None:
        digests[HashAlgorithm.MD5] = md5
    if sha1 is not None:
        digests[HashAlgorithm.SHA1] = sha1
    if sha256 is not None:
        digests[HashAlgorithm.SHA256] = sha256
    if pdq is not None:
        digests[HashAlgorithm.PDQ] = pdq
    if photodna is not None:
        digests[HashAlgorithm.PHOTODNA] = photodna
    key = (scheme, code, label)
    category = _CATEGORIES.get(key)
    if category is None:
        category = Category(scheme, code, label)
        if len(_CATEGORIES) < 10_000:  # a handful per list; bounded all the same
            _CATEGORIES[key] = category
    provenance = (
        _NO_PROVENANCE
        if record is None
        and series is None
        and victim is None
        and first_seen is None
        and last_seen is None
        and notes is None
        else Provenance(
            source_record_id=record,
            series=series,
            victim_identified=victim,
            first_seen=first_seen,
            last_seen=last_seen,
            notes=notes,
        )
    )
    return HashEntry(
        entry_id=entry_id,
        digests=digests,
        category=category,
        provenance=provenance,
        file_name=file_name,
        size=size,
    )


_VICTIM, _FIRST_SEEN, _LAST_SEEN = 12, 13, 14


def sqlite_values(row: Sequence[Any]) -> Sequence[Any]:
    """An entry row read from SQLite's driver with the types SQLAlchemy would give it.

    SQLite stores a flag as 0/1 and a date as ISO text; the row's first columns are
    `ENTRY_COLUMNS`.
    """
    victim, first_seen, last_seen = row[_VICTIM], row[_FIRST_SEEN], row[_LAST_SEEN]
    if victim is None and first_seen is None and last_seen is None:
        return row
    values = list(row)
    values[_VICTIM] = None if victim is None else bool(victim)
    values[_FIRST_SEEN] = None if first_seen is None else date.fromisoformat(first_seen)
    values[_LAST_SEEN] = None if last_seen is None else date.fromisoformat(last_seen)
    return values


ENTRY_COLUMNS = [
    column for column in hash_list_entries.c if column.name not in ("list_id", "pdq_bits")
]
"""The entry columns `entry_from_row` reads, in its order (the row id first)."""

assert [column.name for column in ENTRY_COLUMNS][:18] == [
    "id",
    *(name for name in INSERT_COLUMNS[1:-1] if name != "pdq_bits"),
], "entry_from_row reads the entry columns by position"
