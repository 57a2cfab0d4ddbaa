"""Engines for the SQL store tests, at the current schema, and whole service processes.

``sqlite_engine`` is a file under the test's own folder; ``postgres_engine`` a private
database per test on the test server, dropped afterwards. A module that shares one
PostgreSQL database among its tests (creating one per test is slow) defines its own
``postgres_engine``, which takes precedence.

``process`` builds what one service process builds on ``database_url`` (an SQLite file,
then a private PostgreSQL database), once per call: a test that restarts a process calls
it again, on the same store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from safeguard.bootstrap import Services, build_services
from safeguard.settings import Settings
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from tests.conftest import private_postgres_database


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    with private_postgres_database("sg_store") as url:
        engine = make_engine(url)
        try:
            upgrade_schema(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    with private_postgres_database("safeguard_service") as url:
        yield url


@pytest.fixture
def process(tmp_path: Path, database_url: str) -> Iterator[Callable[[], Services]]:
    """Builds what one service process builds (a new one after a restart)."""
    built: list[Services] = []

    def build() -> Services:
        built.append(
            build_services(Settings(data_dir=tmp_path / "data", database_url=database_url))
        )
        return built[-1]

    yield build
    for services in built:
        services.engine.dispose()
