from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from safeguard.storage.people_store import PeopleStore
from safeguard.storage.sql.case_store import SqlCaseStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.people_store import SqlPeopleStore
from tests.conftest import private_postgres_database
from tests.contracts.people_store_contract import T0, PeopleStoreContract


def _two_cases(engine: Engine) -> tuple[int, int]:
    cases = SqlCaseStore(engine)
    return (
        cases.create_case("OP-1", "A", "", T0).case_id,
        cases.create_case("OP-2", "A", "", T0).case_id,
    )


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'people.db'}")
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    with private_postgres_database("sg_people") as url:
        engine = make_engine(url)
        try:
            upgrade_schema(engine)
            yield engine
        finally:
            engine.dispose()


class TestSqlitePeopleStore(PeopleStoreContract):
    @pytest.fixture
    def store(self, sqlite_engine: Engine) -> PeopleStore:
        return SqlPeopleStore(sqlite_engine)

    @pytest.fixture
    def case_ids(self, sqlite_engine: Engine) -> tuple[int, int]:
        return _two_cases(sqlite_engine)


@pytest.mark.postgres
class TestPostgresPeopleStore(PeopleStoreContract):
    @pytest.fixture
    def store(self, postgres_engine: Engine) -> PeopleStore:
        return SqlPeopleStore(postgres_engine)

    @pytest.fixture
    def case_ids(self, postgres_engine: Engine) -> tuple[int, int]:
        return _two_cases(postgres_engine)
