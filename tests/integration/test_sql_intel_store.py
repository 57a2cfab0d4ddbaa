from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from safeguard.domain.intel.subjects import IntelAuditEvent
from safeguard.storage.intel_store import IntelStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.intel_store import SqlIntelStore
from tests.conftest import private_postgres_database
from tests.contracts.intel_store_contract import IntelStoreContract
from tests.intel_factories import T0
from tests.intel_stack import empty_intel_tables


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with private_postgres_database("sg_intel") as url:
        engine = make_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        yield url


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    # One database per module (creating one per test is slow); tables emptied per test.
    empty_intel_tables(engine)
    yield engine
    engine.dispose()


def _assert_append_only(engine: Engine, statements: tuple[str, ...]) -> None:
    store = SqlIntelStore(engine)
    store.append_audit(IntelAuditEvent(T0, "A", "x"))
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert [e.actor for e in store.audit()] == ["A"]


class TestSqliteIntelStore(IntelStoreContract):
    @pytest.fixture
    def store(self, sqlite_engine: Engine) -> IntelStore:
        return SqlIntelStore(sqlite_engine)

    def test_audit_rows_cannot_be_changed(self, sqlite_engine: Engine) -> None:
        _assert_append_only(
            sqlite_engine, ("UPDATE intel_audit SET actor = 'B'", "DELETE FROM intel_audit")
        )


@pytest.mark.postgres
class TestPostgresIntelStore(IntelStoreContract):
    @pytest.fixture
    def store(self, postgres_engine: Engine) -> IntelStore:
        return SqlIntelStore(postgres_engine)

    def test_audit_rows_cannot_be_changed(self, postgres_engine: Engine) -> None:
        _assert_append_only(
            postgres_engine,
            (
                "UPDATE intel_audit SET actor = 'B'",
                "DELETE FROM intel_audit",
                "TRUNCATE intel_audit",
            ),
        )
