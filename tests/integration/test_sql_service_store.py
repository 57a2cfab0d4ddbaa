from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from safeguard.storage.service_store import ServiceStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.service_store import SqlServiceStore
from tests.conftest import POSTGRES_URL
from tests.contracts.service_store_contract import ServiceStoreContract


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    name = f"safeguard_service_{uuid.uuid4().hex[:12]}"
    admin = make_engine(
        make_url(POSTGRES_URL).set(database="postgres").render_as_string(hide_password=False)
    )
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade_schema(engine)
    yield engine
    with engine.begin() as conn:
        for table in (
            "service_api_keys",
            "service_seen_uploads",
            "service_hits",
            "service_quarantine",
            "service_reports",
            "service_webhook_targets",
            "service_webhook_deliveries",
            "service_audit",
        ):
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


class TestSqliteServiceStore(ServiceStoreContract):
    @pytest.fixture
    def store(self, sqlite_engine: Engine) -> ServiceStore:
        return SqlServiceStore(sqlite_engine)


@pytest.mark.postgres
class TestPostgresServiceStore(ServiceStoreContract):
    @pytest.fixture
    def store(self, postgres_engine: Engine) -> ServiceStore:
        return SqlServiceStore(postgres_engine)
