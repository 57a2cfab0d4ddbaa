"""Conformance suite every `CaseStore` passes (memory fake, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from safeguard.domain.cases import (
    AuditEvent,
    ExhibitKind,
    FileResult,
    FileStatus,
    ListVersion,
    RunState,
)
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.hash_lists import ListKind, Provenance, category_for
from safeguard.domain.matches import Match
from safeguard.storage.case_store import CaseStore

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def result(path: str, status: FileStatus = FileStatus.OTHER, **fields: object) -> FileResult:
    return FileResult(path=path, status=status, **fields)  # type: ignore[arg-type]


class CaseStoreContract:
    @pytest.fixture
    def store(self) -> CaseStore:
        raise NotImplementedError

    def test_case_round_trip_and_lookup(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "Examiner A", "desc", T0)
        assert store.case_by_number("OP-1") == case
        assert store.case_by_id(case.case_id) == case
        assert store.all_cases() == [case]
        assert case.created_at == T0

    def test_duplicate_case_number_is_refused(self, store: CaseStore) -> None:
        store.create_case("OP-1", "A", "", T0)
        with pytest.raises(StorageError):
            store.create_case("OP-1", "B", "", T0)

    def test_missing_case_raises_not_found(self, store: CaseStore) -> None:
        with pytest.raises(NotFoundError):
            store.case_by_number("nope")
        with pytest.raises(NotFoundError):
            store.case_by_id(999)

    def test_ensure_exhibit_is_idempotent(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "A", "", T0)
        first = store.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
        again = store.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
        assert first == again
        assert store.exhibits(case.case_id) == [first]
        updated = store.update_exhibit(first.exhibit_id, manifest_sha256="ab" * 32)
        assert updated.manifest_sha256 == "ab" * 32
        assert updated.acquisition_hash is None
        updated = store.update_exhibit(
            first.exhibit_id, acquisition_hash="sha256:" + "cd" * 32, acquisition_verified=True
        )
        assert updated.manifest_sha256 == "ab" * 32
        assert updated.acquisition_verified is True

    def test_runs_record_lists_and_completion(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "A", "", T0)
        exhibit = store.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.IMAGE_FILE, T0)
        lists = [
            ListVersion("bad", ListKind.KNOWN_BAD, "2026.11"),
            ListVersion("good", ListKind.KNOWN_GOOD, ""),
        ]
        run = store.start_run(exhibit.exhibit_id, T0, "0.1.0", "A", lists)
        assert run.state is RunState.RUNNING
        store.record_results(exhibit.exhibit_id, run.run_id, [result("a"), result("b")])
        done = store.finish_run(run.run_id, T0)
        assert done.state is RunState.COMPLETED
        assert done.finished_at == T0
        assert done.files_recorded == 2
        assert store.runs(exhibit.exhibit_id) == [done]
        assert done.lists == tuple(lists)

    def test_results_upsert_by_path_without_duplicates(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "A", "", T0)
        exhibit = store.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
        run = store.start_run(exhibit.exhibit_id, T0, "0.1.0", "A", [])
        store.record_results(exhibit.exhibit_id, run.run_id, [result("b"), result("a")])
        store.record_results(
            exhibit.exhibit_id, run.run_id, [result("b", FileStatus.UNKNOWN_IMAGE), result("c")]
        )
        stored = list(store.results(exhibit.exhibit_id))
        assert [r.path for r in stored] == ["a", "b", "c"]
        assert stored[1].status is FileStatus.UNKNOWN_IMAGE
        assert store.recorded_paths(exhibit.exhibit_id) == {"a", "b", "c"}
        assert store.status_counts(exhibit.exhibit_id) == {
            FileStatus.OTHER: 2,
            FileStatus.UNKNOWN_IMAGE: 1,
        }

    def test_results_keep_every_field(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "A", "", T0)
        exhibit = store.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
        run = store.start_run(exhibit.exhibit_id, T0, "0.1.0", "A", [])
        category = category_for("uk-sentencing", "C")
        match = Match(
            list_name="bad",
            list_kind=ListKind.KNOWN_BAD,
            entry_id="17",
            algorithm=HashAlgorithm.PDQ,
            distance=12,
            threshold=31,
            list_version="v2",
            query_quality=88,
            variant="rot90",
            category=category,
            provenance=Provenance(series="S1", victim_identified=True, first_seen=date(2020, 1, 2)),
        )
        full = FileResult(
            path="img.E01/p1/Users/ü/ä b.jpg",
            status=FileStatus.KNOWN_BAD,
            size=1234,
            md5="0" * 32,
            sha1="1" * 40,
            sha256="2" * 64,
            pdq="f" * 64,
            pdq_quality=88,
            media_type="image/jpeg",
            modified=T0,
            accessed=T0,
            created=None,
            changed=T0,
            deleted=True,
            error="partly unreadable",
            category=category,
            matches=(match,),
        )
        store.record_results(exhibit.exhibit_id, run.run_id, [full])
        assert list(store.results(exhibit.exhibit_id)) == [full]

    def test_video_results_keep_frame_times(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "A", "", T0)
        exhibit = store.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
        run = store.start_run(exhibit.exhibit_id, T0, "0.1.0", "A", [])
        frame_match = Match(
            "bad",
            ListKind.KNOWN_BAD,
            "17",
            HashAlgorithm.PDQ,
            8,
            31,
            "v2",
            90,
            frame_seconds=3.25,
        )
        video = FileResult(
            path="clips/holiday.mp4",
            status=FileStatus.KNOWN_BAD,
            size=99,
            media_type="video/mp4",
            matches=(frame_match,),
            frame_seconds=3.25,
            video_frames=9,
        )
        picture = result("a.jpg", FileStatus.UNKNOWN_IMAGE)
        store.record_results(exhibit.exhibit_id, run.run_id, [video, picture])
        assert list(store.results(exhibit.exhibit_id)) == [picture, video]
        stored = next(r for r in store.results(exhibit.exhibit_id) if r.path == video.path)
        assert stored.matches[0].frame_seconds == 3.25
        assert (stored.frame_seconds, stored.video_frames) == (3.25, 9)

    def test_results_are_in_byte_order_across_pages(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "A", "", T0)
        exhibit = store.ensure_exhibit(case.case_id, "JB/1", "/x", ExhibitKind.FOLDER, T0)
        run = store.start_run(exhibit.exhibit_id, T0, "0.1.0", "A", [])
        paths = [f"d/{i:05d}" for i in range(2500)] + ["D/upper", "d/_", "é"]
        store.record_results(exhibit.exhibit_id, run.run_id, [result(p) for p in paths])
        assert [r.path for r in store.results(exhibit.exhibit_id)] == sorted(paths)

    def test_audit_log_appends_in_order(self, store: CaseStore) -> None:
        case = store.create_case("OP-1", "A", "", T0)
        first = store.append_audit(
            AuditEvent(T0, "A", "case.created", case.case_id, None, {"n": "1"})
        )
        second = store.append_audit(AuditEvent(T0, "B", "report.written", case.case_id))
        store.append_audit(AuditEvent(T0, "C", "other"))
        assert first.event_id
        assert second.event_id > first.event_id
        assert store.audit_events(case.case_id) == [first, second]
        assert len(store.audit_events()) == 3
        assert first.detail == {"n": "1"}
        assert not hasattr(store, "delete_audit")
