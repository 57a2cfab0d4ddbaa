"""The hash-list store contract on SQLite (always) and on the live PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from safeguard.domain.digests import HashAlgorithm
from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.sql import hash_list_store as sql_module
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.hash_list_store import INSERT_BATCH, SqlHashListStore
from tests.conftest import POSTGRES_URL
from tests.contracts.hash_list_store_contract import (
    HashListStoreContract,
    bad_list,
    failing,
    make_entry,
)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'lists.db'}")
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_server_url() -> Iterator[str]:
    """A private database on the test server for this module, dropped afterwards."""
    name = f"safeguard_lists_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(POSTGRES_URL).set(database="postgres")
    admin = make_engine(admin_url.render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        admin.dispose()
        if os.environ.get("CI"):  # the server is part of CI: its absence is a failure there
            raise
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_engine(postgres_server_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_server_url)
    upgrade_schema(engine)
    yield engine
    with engine.begin() as conn:  # each test starts from empty tables
        conn.execute(text("DELETE FROM hash_lists"))
        conn.execute(text("DELETE FROM hash_list_pdq_removals"))
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
    monkeypatch.setattr(sql_module, "ANALYZE_AFTER_ROWS", 1_000)  # exercise it on PostgreSQL
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
