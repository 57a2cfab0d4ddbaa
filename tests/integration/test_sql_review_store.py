from __future__ import annotations

import pytest
from sqlalchemy import Engine

from safeguard.domain.cases import ExhibitKind
from safeguard.storage.review_store import ReviewStore
from safeguard.storage.sql.case_store import SqlCaseStore
from safeguard.storage.sql.review_store import SqlReviewStore
from tests.contracts.review_store_contract import T0, ReviewStoreContract


def _ids(engine: Engine) -> tuple[int, int, int]:
    cases = SqlCaseStore(engine)
    case = cases.create_case("OP-1", "A", "", T0)
    one = cases.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
    two = cases.ensure_exhibit(case.case_id, "JB/2", "/y", ExhibitKind.FOLDER, T0)
    return case.case_id, one.exhibit_id, two.exhibit_id


class TestSqliteReviewStore(ReviewStoreContract):
    @pytest.fixture
    def store(self, sqlite_engine: Engine) -> ReviewStore:
        return SqlReviewStore(sqlite_engine)

    @pytest.fixture
    def ids(self, sqlite_engine: Engine) -> tuple[int, int, int]:
        return _ids(sqlite_engine)


@pytest.mark.postgres
class TestPostgresReviewStore(ReviewStoreContract):
    @pytest.fixture
    def store(self, postgres_engine: Engine) -> ReviewStore:
        return SqlReviewStore(postgres_engine)

    @pytest.fixture
    def ids(self, postgres_engine: Engine) -> tuple[int, int, int]:
        return _ids(postgres_engine)
