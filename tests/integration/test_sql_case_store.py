from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from safeguard.domain.cases import AuditEvent
from safeguard.storage.case_store import CaseStore
from safeguard.storage.sql.case_store import SqlCaseStore
from tests.contracts.case_store_contract import T0, CaseStoreContract


class TestSqliteCaseStore(CaseStoreContract):
    @pytest.fixture
    def store(self, sqlite_engine: Engine) -> CaseStore:
        return SqlCaseStore(sqlite_engine)

    def test_audit_rows_cannot_be_changed(self, sqlite_engine: Engine) -> None:
        store = SqlCaseStore(sqlite_engine)
        store.append_audit(AuditEvent(T0, "A", "x"))
        for statement in ("UPDATE audit_events SET actor = 'B'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), sqlite_engine.begin() as conn:
                conn.execute(text(statement))
        assert [e.actor for e in store.audit_events()] == ["A"]


@pytest.mark.postgres
class TestPostgresCaseStore(CaseStoreContract):
    @pytest.fixture
    def store(self, postgres_engine: Engine) -> CaseStore:
        return SqlCaseStore(postgres_engine)

    def test_audit_rows_cannot_be_changed(self, postgres_engine: Engine) -> None:
        store = SqlCaseStore(postgres_engine)
        store.append_audit(AuditEvent(T0, "A", "x"))
        for statement in (
            "UPDATE audit_events SET actor = 'B'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events CASCADE",
        ):
            with pytest.raises(DBAPIError, match="append-only"), postgres_engine.begin() as conn:
                conn.execute(text(statement))
        assert [e.actor for e in store.audit_events()] == ["A"]


@pytest.mark.postgres
def test_scan_into_postgres_twice_records_each_file_once(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    from safeguard.domain.cases import FileStatus
    from safeguard.extraction.registry import open_exhibit
    from safeguard.services.demo.pictures import write_photo
    from safeguard.services.examiner.cases import CaseService
    from safeguard.services.examiner.triage import TriageService
    from tests.unit.services.examiner.test_triage import FakeLists

    for seed in range(5):
        write_photo(tmp_path / "ex" / f"{seed}.jpg", seed=seed, width=64, height=48)
    lists = FakeLists()
    cases = CaseService(SqlCaseStore(postgres_engine))
    cases.new_case("OP-PG", "Examiner")
    service = TriageService(cases, open_exhibit, lists.match, lists.all_lists)
    first = service.scan(tmp_path / "ex", "OP-PG")
    second = service.scan(tmp_path / "ex", "OP-PG")
    assert first.recorded == 5
    assert second.skipped == 5
    assert second.recorded == 0
    assert cases.store.status_counts(first.exhibit.exhibit_id) == {FileStatus.UNKNOWN_IMAGE: 5}
    assert second.exhibit.manifest_sha256 == first.exhibit.manifest_sha256
