from __future__ import annotations

import pytest
from sqlalchemy import Engine

from safeguard.storage.people_store import PeopleStore
from safeguard.storage.sql.case_store import SqlCaseStore
from safeguard.storage.sql.people_store import SqlPeopleStore
from tests.contracts.people_store_contract import T0, PeopleStoreContract


def _two_cases(engine: Engine) -> tuple[int, int]:
    cases = SqlCaseStore(engine)
    return (
        cases.create_case("OP-1", "A", "", T0).case_id,
        cases.create_case("OP-2", "A", "", T0).case_id,
    )


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
