"""Engines for the SQL store tests, at the current schema.

``sqlite_engine`` is a file under the test's own folder; ``postgres_engine`` a private
database per test on the test server, dropped afterwards. A module that shares one
PostgreSQL database among its tests (creating one per test is slow) defines its own
``postgres_engine``, which takes precedence.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

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
