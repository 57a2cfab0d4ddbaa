from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from safeguard.domain.cases import ExhibitKind
from safeguard.storage.review_store import ReviewStore
from safeguard.storage.sql.case_store import SqlCaseStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.review_store import SqlReviewStore
from tests.conftest import private_postgres_database
from tests.contracts.review_store_contract import T0, ReviewStoreContract


def _ids(engine: Engine) -> tuple[int, int, int]:
    cases = SqlCaseStore(engine)
    case = cases.create_case("OP-1", "A", "", T0)
    one = cases.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
    two = cases.ensure_exhibit(case.case_id, "JB/2", "/y", ExhibitKind.FOLDER, T0)
    return case.case_id, one.exhibit_id, two.exhibit_id


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'review.db'}")
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    with private_postgres_database("sg_review") as url:
        engine = make_engine(url)
        try:
            upgrade_schema(engine)
            yield engine
        finally:
            engine.dispose()


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
