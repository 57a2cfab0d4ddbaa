"""The hash-list store contract on SQLite (always) and on the live PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import InvalidDigestError
from safeguard.domain.hash_lists import HashEntry, Provenance
from safeguard.list_formats.entry_columns import ColumnarEntries, EntryColumns
from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.sql import hash_list_import
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.hash_list_store import SqlHashListStore
from safeguard.storage.sql.hash_list_writes import INSERT_BATCH
from tests.conftest import private_postgres_database
from tests.contracts.hash_list_store_contract import (
    HashListStoreContract,
    bad_list,
    digest_of,
    failing,
    make_entry,
)


@pytest.fixture(scope="module")
def postgres_server_url() -> Iterator[str]:
    """A private database on the test server for this module, dropped afterwards."""
    with private_postgres_database("safeguard_lists") as url:
        yield url


@pytest.fixture
def postgres_engine(postgres_server_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_server_url)
    upgrade_schema(engine)
    yield engine
    with engine.begin() as conn:  # each test starts from empty tables
        conn.execute(text("DELETE FROM hash_lists"))
        conn.execute(text("DELETE FROM hash_list_pdq_removals"))
        conn.execute(text("DELETE FROM hash_list_removals"))
    engine.dispose()


class TestSqliteHashListStore(HashListStoreContract):
    @pytest.fixture
    def store(self, sqlite_engine: Engine) -> HashListStore:
        return SqlHashListStore(sqlite_engine)


@pytest.mark.postgres
class TestPostgresHashListStore(HashListStoreContract):
    @pytest.fixture
    def store(self, postgres_engine: Engine) -> HashListStore:
        return SqlHashListStore(postgres_engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
def sql_store(any_engine: Engine) -> SqlHashListStore:
    return SqlHashListStore(any_engine)


def test_import_across_batches_dedupes_and_stays_atomic(
    sql_store: SqlHashListStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hash_list_import, "ANALYZE_AFTER_ROWS", 1_000)  # exercise it on PostgreSQL
    count = INSERT_BATCH * 2 + 10
    entries = [make_entry(i, pdq=i % 3 == 0) for i in range(count)]
    # The same entry id again in a later batch replaces the earlier row.
    entries.append(make_entry(999_999, entry_id="e1"))
    stored = sql_store.import_list(bad_list(), entries)
    assert stored.entry_count == count
    ids = [e.entry_id for e in sql_store.iter_entries("bad")]
    assert len(ids) == len(set(ids)) == count
    revision = sql_store.current_revision()
    with pytest.raises(ValueError, match="half-way"):
        sql_store.import_list(bad_list(), failing(entries, INSERT_BATCH + 5))
    assert sql_store.get_list("bad") == stored
    assert sql_store.current_revision() == revision
    delta = sql_store.pdq_rows_since(0)
    # every third entry has a PDQ hash, and so has the replacement of e1
    assert len(delta.added_ids) == len(range(0, count, 3)) + 1
    md5s = [e.digests[HashAlgorithm.MD5] for e in entries[:1200]]
    assert len(sql_store.find_exact(HashAlgorithm.MD5, md5s)) == 1199  # e1 was replaced


def test_schema_matches_the_table_definitions(any_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from safeguard.storage.sql import tables_lists
    from safeguard.storage.sql.schema import metadata

    mine = {table.name for table in metadata.tables.values() if table.name.startswith("hash_list")}
    assert {tables_lists.hash_lists.name, tables_lists.hash_list_entries.name} <= mine
    with any_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)

    def table_of(diff: object) -> str:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return str(table.name)
            if isinstance(name, str) and name.startswith("hash_list"):
                return name
        return ""

    assert [d for d in diffs if table_of(d) in mine] == []


def test_match_service_follows_the_sql_change_log(
    sql_store: SqlHashListStore, tmp_path: Path
) -> None:
    from safeguard.domain.file_hashes import FileHashes
    from safeguard.domain.hash_lists import HashList, ListKind
    from safeguard.services.matching import MatchService

    def pdq_of(seed: int) -> FileHashes:
        entry = make_entry(seed)
        return FileHashes("q", 1, pdq=entry.digests[HashAlgorithm.PDQ], pdq_quality=100)

    sql_store.import_list(bad_list(), [make_entry(1)])
    sql_store.import_list(HashList("good", ListKind.KNOWN_GOOD), [make_entry(1, entry_id="g")])
    first = MatchService(sql_store, index_dir=tmp_path)
    assert [m.list_name for m in first.match_file_hashes(pdq_of(1))] == ["bad", "good"]
    sql_store.add_entries("bad", [make_entry(2)])
    assert [m.entry_id for m in first.match_file_hashes(pdq_of(2))] == ["e2"]
    sql_store.remove_entries("bad", ["e1"])
    sql_store.update_list("good", enabled=False)
    assert first.match_file_hashes(pdq_of(1)) == []
    # A second process starts from the save and replays the change log since it.
    second = MatchService(sql_store, index_dir=tmp_path)
    assert [m.entry_id for m in second.match_file_hashes(pdq_of(2))] == ["e2"]
    assert second.match_file_hashes(pdq_of(1)) == []


def _entry_indexes(engine: Engine) -> set[str]:

    return {str(ix["name"]) for ix in inspect(engine).get_indexes("hash_list_entries")}


def test_large_sqlite_import_defers_and_restores_indexes(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguard.storage.sql import hash_list_rows

    store = SqlHashListStore(sqlite_engine)
    store.import_list(bad_list("small"), [make_entry(i, entry_id=f"s{i}") for i in range(3)])
    indexes = _entry_indexes(sqlite_engine)
    assert {"ix_hash_list_entries_md5", "ix_hash_list_entries_list_entry"} <= indexes
    dropped: list[int] = []
    original = hash_list_rows.DeferredIndexes.note_rows

    def spy(self: hash_list_rows.DeferredIndexes, rows: int) -> None:
        was = self.deferred
        original(self, rows)
        if self.deferred and not was:
            dropped.append(rows)

    monkeypatch.setattr(hash_list_rows, "DEFER_INDEXES_AFTER_ROWS", 10)
    monkeypatch.setattr(hash_list_rows.DeferredIndexes, "note_rows", spy)
    count = INSERT_BATCH + 20
    entries = [make_entry(i, pdq=i % 2 == 0) for i in range(count)]
    entries.append(make_entry(777_777, entry_id="e3"))  # a repeated id across batches
    assert store.import_list(bad_list(), entries).entry_count == count
    # Staged first (no lock on the database meanwhile), then the indexes are dropped once
    # for the whole staged list.
    assert len(dropped) == 1
    assert dropped[0] >= count
    assert _entry_indexes(sqlite_engine) == indexes
    found = store.find_exact(HashAlgorithm.MD5, [digest_of("md5", 777_777), digest_of("md5", 3)])
    assert [s.entry.entry_id for s in found] == ["e3"]

    # A re-import goes by difference through a staging table and keeps the indexes.
    with pytest.raises(ValueError, match="half-way"):
        store.import_list(bad_list(), failing(entries, INSERT_BATCH + 5))
    assert len(dropped) == 1
    assert _entry_indexes(sqlite_engine) == indexes
    assert store.get_list("bad").entry_count == count
    # Most of a large list changed (gone): replaced outright, with the indexes deferred.
    assert store.import_list(bad_list(), entries[:100]).entry_count == 100
    assert dropped[-1] == count
    assert _entry_indexes(sqlite_engine) == indexes
    assert [e.entry_id for e in store.iter_entries("small")] == ["s0", "s1", "s2"]


def test_sqlite_import_keeps_indexes_when_other_lists_are_larger(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguard.storage.sql import hash_list_rows

    store = SqlHashListStore(sqlite_engine)
    store.import_list(bad_list("big"), [make_entry(i, entry_id=f"b{i}") for i in range(50)])
    monkeypatch.setattr(hash_list_rows, "DEFER_INDEXES_AFTER_ROWS", 10)
    deferred: list[bool] = []
    original = hash_list_rows.DeferredIndexes.restore

    def spy(self: hash_list_rows.DeferredIndexes) -> None:
        deferred.append(self.deferred)
        original(self)

    monkeypatch.setattr(hash_list_rows.DeferredIndexes, "restore", spy)
    store.import_list(bad_list(), [make_entry(i) for i in range(20)])  # 20 < the 50 others
    assert deferred == [False]


def test_removal_log_migration_upgrades_a_lists_0001_database(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from safeguard.storage.sql.engine import MIGRATIONS_DIR

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def migrate(step: str, target: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, step)(config, target)

    try:
        migrate("upgrade", "lists_0001")
        assert "hash_list_removals" not in inspect(engine).get_table_names()
        upgrade_schema(engine)
        store = SqlHashListStore(engine)
        store.import_list(bad_list(), [make_entry(1, pdq=False)])
        before = store.current_revision()
        store.remove_entries("bad", ["e1"])
        assert len(store.removed_rows_between(before, store.current_revision())) == 1
        migrate("downgrade", "lists_0001")
        assert "hash_list_removals" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_first_import_defers_indexes_on_every_engine(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safeguard.storage.sql import hash_list_rows

    store = SqlHashListStore(any_engine)
    indexes = _entry_indexes(any_engine)
    foreign_keys = inspect(any_engine).get_foreign_keys("hash_list_entries")
    assert foreign_keys  # PostgreSQL drops it for a first import, and adds it back
    monkeypatch.setattr(hash_list_rows, "DEFER_INDEXES_AFTER_ROWS", 10)
    entries = [make_entry(i) for i in range(INSERT_BATCH + 20)]
    with pytest.raises(ValueError, match="half-way"):
        store.import_list(bad_list(), failing(entries, INSERT_BATCH + 5))
    assert _entry_indexes(any_engine) == indexes
    assert store.all_lists() == []
    assert inspect(any_engine).get_foreign_keys("hash_list_entries") == foreign_keys
    assert store.import_list(bad_list(), entries).entry_count == len(entries)
    assert _entry_indexes(any_engine) == indexes
    assert inspect(any_engine).get_foreign_keys("hash_list_entries") == foreign_keys
    (found,) = store.find_exact(HashAlgorithm.SHA1, [digest_of("sha1", 7)])
    assert found.entry.entry_id == "e7"


@pytest.mark.parametrize("reimport", [False, True])
def test_sqlite_import_lets_other_writers_in_while_the_file_is_read(
    sqlite_engine: Engine, reimport: bool
) -> None:
    # The service records uploads while an operator imports a large list: those writes
    # must not wait for the whole file to be read (only for the short apply at the end).
    store = SqlHashListStore(sqlite_engine)
    if reimport:
        store.import_list(bad_list(), [make_entry(i) for i in range(50)])
    # A second engine on the same file, as another process would open it.
    other = make_engine(f"sqlite:///{sqlite_engine.url.database}", sqlite_busy_timeout_ms=200)
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE writer_probe (x INTEGER)"))
    writes: list[int] = []

    def entries() -> Iterator[HashEntry]:
        for i in range(INSERT_BATCH * 2):
            if i == INSERT_BATCH + 10:  # half-way through reading the "file"
                with other.begin() as conn:
                    conn.execute(text("INSERT INTO writer_probe VALUES (1)"))
                writes.append(i)
            yield make_entry(i)

    assert store.import_list(bad_list(), entries()).entry_count == INSERT_BATCH * 2
    assert writes == [INSERT_BATCH + 10]
    other.dispose()


def test_column_batches_store_what_entries_store(sql_store: SqlHashListStore) -> None:
    # Categories, provenance (flags and dates too) and missing digests travel in columns.
    entries = [
        replace(
            make_entry(i, pdq=i % 2 == 0),
            provenance=Provenance(
                source_record_id=f"r{i}",
                victim_identified=None if i % 3 == 0 else i % 3 == 1,
                first_seen=date(2020, 1, 1 + i % 28) if i % 4 else None,
                last_seen=date(2021, 2, 1 + i % 28) if i % 5 else None,
            ),
            file_name=f"f{i}.jpg" if i % 2 else None,
            size=i * 10 if i % 3 else None,
        )
        for i in range(30)
    ]
    batches = [EntryColumns.of_entries(entries[:10]), EntryColumns.of_entries(entries[10:])]
    sql_store.import_list(bad_list("by-entries"), entries)
    sql_store.import_list(bad_list("by-columns"), ColumnarEntries(iter(batches)))
    assert list(sql_store.iter_entries("by-columns")) == entries
    assert list(sql_store.iter_entries("by-entries")) == entries
    # A re-import by difference takes the batches too.
    changed = [*entries[:5], make_entry(99)]
    sql_store.import_list(
        bad_list("by-columns"), ColumnarEntries(iter([EntryColumns.of_entries(changed)]))
    )
    assert list(sql_store.iter_entries("by-columns")) == changed


def test_column_batches_with_non_canonical_digests_are_refused(sql_store: SqlHashListStore) -> None:
    entries = [make_entry(i) for i in range(3)]
    sql_store.import_list(bad_list(), entries)
    revision = sql_store.current_revision()
    odd = EntryColumns.of_columns(1, {"entry_id": ["x"], "md5": [digest_of("md5", 1).upper()]})
    with pytest.raises(InvalidDigestError, match="md5"):
        sql_store.import_list(bad_list(), ColumnarEntries(iter([odd])))
    assert list(sql_store.iter_entries("bad")) == entries
    assert sql_store.current_revision() == revision
