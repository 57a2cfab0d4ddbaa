from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from safeguard.storage.retroactive_job_store import RetroactiveJobStore
from safeguard.storage.service_store import ServiceStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.retroactive_jobs import SqlRetroactiveJobStore
from safeguard.storage.sql.service_store import SqlServiceStore
from tests.conftest import private_postgres_database
from tests.contracts.retroactive_job_store_contract import RetroactiveJobStoreContract
from tests.contracts.service_store_contract import ServiceStoreContract


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with private_postgres_database("safeguard_service") as url:
        yield url


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
            "service_retroactive_jobs",
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


def test_decision_rolls_back_when_its_audit_entry_cannot_be_written(sqlite_engine: Engine) -> None:
    from datetime import UTC, datetime

    from safeguard.domain.service import QueuedReport, ReportStatus
    from safeguard.services.platform.report_review import ReportReview

    store = SqlServiceStore(sqlite_engine)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    report_id = store.add_report(
        QueuedReport(upload_id=1, created_at=at, matches=(), file_hashes={})
    )
    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP TABLE service_audit"))  # the audit write will fail
    with pytest.raises(Exception, match="service_audit"):
        ReportReview(store).decide(report_id, ReportStatus.CONFIRMED, "alice")
    assert store.get_report(report_id).status is ReportStatus.PENDING


class TestSqliteRetroactiveJobStore(RetroactiveJobStoreContract):
    @pytest.fixture
    def jobs(self, sqlite_engine: Engine) -> RetroactiveJobStore:
        return SqlRetroactiveJobStore(sqlite_engine)


@pytest.mark.postgres
class TestPostgresRetroactiveJobStore(RetroactiveJobStoreContract):
    @pytest.fixture
    def jobs(self, postgres_engine: Engine) -> RetroactiveJobStore:
        return SqlRetroactiveJobStore(postgres_engine)


def test_retroactive_jobs_schema_matches_the_table_definition(sqlite_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from safeguard.storage.sql.schema import metadata

    with sqlite_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if "service_retroactive_jobs" in repr(d)] == []


@pytest.mark.postgres
def test_two_claimers_racing_on_postgres_get_each_job_once(postgres_engine: Engine) -> None:
    import threading
    from datetime import UTC, datetime, timedelta

    from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState

    store = SqlRetroactiveJobStore(postgres_engine)
    now = datetime.now(UTC)
    for _ in range(20):
        store.add_job(RetroactiveJob("bad", now, "t", state=RetroactiveState.PENDING))
    taken: list[tuple[str, int]] = []

    def claim_all(worker: str) -> None:
        while (job := store.claim_job(worker, now, now + timedelta(minutes=2), now)) is not None:
            taken.append((worker, job.job_id))

    threads = [threading.Thread(target=claim_all, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(job_id for _, job_id in taken) == sorted(j.job_id for j in store.list_jobs())
