"""Unmatched uploads are stored in batches, and a list change meanwhile is never missed."""

from __future__ import annotations

import time

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.service import ReportStatus, SeenUpload
from safeguard.services.matching import MatchService
from safeguard.services.platform.index_keeper import IndexKeeper
from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
from safeguard.services.platform.seen_uploads import SeenUploadWriter
from safeguard.services.platform.upload_matching import UploadMatchingService
from tests.unit.services.service_stack import ServiceStack, bad_list, build_stack, entry

PDQ = "f" * 16 + "0" * 48
MD5 = "0" * 31 + "1"


def _with_writer(
    stack: ServiceStack, interval: float = 60.0
) -> tuple[UploadMatchingService, SeenUploadWriter]:
    keeper = stack.keeper

    def match(hashes):  # type: ignore[no-untyped-def]
        with keeper.reading() as matcher:
            return matcher.match_file_hashes(hashes)

    writer = SeenUploadWriter(
        stack.store, stack.lists.current_revision, keeper, match, stack.actions, interval=interval
    )
    service = UploadMatchingService(
        lambda data, name: None,  # type: ignore[arg-type,return-value]
        keeper,
        stack.actions,
        stack.store,
        clock=stack.clock,
        seen_writer=writer,
    )
    return service, writer


def test_unmatched_uploads_wait_for_one_batched_write() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(), actor="t")
    service, writer = _with_writer(stack)
    # Not started: written at once, with an id, as before.
    assert service.match_hashes({"md5": MD5}).upload_id is not None
    assert stack.store.count_seen() == 1
    writer.start()
    try:
        results = [service.match_hashes_at_once({"pdq": PDQ, "md5": MD5}) for _ in range(5)]
        assert all(r is not None and r.upload_id is None and not r.matches for r in results)
        assert stack.store.count_seen() == 1  # buffered
    finally:
        writer.stop()  # writes what waits
    assert stack.store.count_seen() == 6


def test_background_thread_writes_within_its_interval() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(), actor="t")
    service, writer = _with_writer(stack, interval=0.05)
    writer.start()
    try:
        assert service.match_hashes_at_once({"md5": MD5}) is not None
        deadline = time.monotonic() + 5
        while stack.store.count_seen() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stack.store.count_seen() == 1
    finally:
        writer.stop()


def test_a_list_change_while_a_row_waits_is_matched_when_it_is_written() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(), actor="t")
    service, writer = _with_writer(stack)
    writer.start()
    try:
        first = service.match_hashes_at_once({"pdq": PDQ}, 90)
        assert first is not None
        assert not first.matches
        # The entry arrives (and its retroactive pass runs) before the row is stored.
        change = stack.admin.add_entries("bad", [entry("late", pdq=PDQ)], actor="t")
        assert change.retroactive == ()
        # A known hash is answered on the slow path, with its actions.
        assert service.match_hashes_at_once({"pdq": PDQ}, 90) is None
    finally:
        writer.stop()
    [report] = stack.store.list_reports(ReportStatus.PENDING)
    assert report.retroactive
    assert len(stack.store.list_quarantine()) == 1
    assert stack.store.seen_to_rematch(10) == []  # marked when written, cleared once matched
    # Stopping again changes nothing: the hit was claimed once.
    writer.flush()
    assert len(stack.store.list_reports(ReportStatus.PENDING)) == 1


def test_rows_matched_at_the_current_revision_are_not_marked() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(), actor="t")
    service, writer = _with_writer(stack)
    writer.start()
    try:
        assert service.match_hashes_at_once({"pdq": PDQ}, 90) is not None
    finally:
        writer.stop()
    assert stack.store.count_seen() == 1
    assert stack.store.seen_to_rematch(10) == []


class Killed(BaseException):
    """The process died: nothing after this runs."""


def test_the_retroactive_worker_of_a_new_process_rematches_rows_a_dead_one_wrote() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(), actor="t")
    stack.keeper.ensure_fresh()

    def dies() -> int:
        raise Killed

    writer = SeenUploadWriter(stack.store, dies, stack.keeper, lambda h: [], stack.actions)
    service = UploadMatchingService(
        lambda data, name: None,  # type: ignore[arg-type,return-value]
        stack.keeper,
        stack.actions,
        stack.store,
        clock=stack.clock,
        seen_writer=writer,
    )
    writer.start()
    try:
        assert service.match_hashes_at_once({"pdq": PDQ}, 90) is not None
        stack.admin.add_entries("bad", [entry("late", pdq=PDQ)], actor="t")
        with pytest.raises(Killed):
            writer.flush()  # written and marked; the re-match never ran
    finally:
        writer.stop()
    assert len(stack.store.seen_to_rematch(10)) == 1
    assert stack.store.list_reports() == []

    # A new process: its own index keeper, writer and retroactive jobs over the same stores.
    keeper = IndexKeeper(MatchService(stack.lists, auto_refresh=False), stack.lists)

    def match(hashes):  # type: ignore[no-untyped-def]
        with keeper.reading() as matcher:
            return matcher.match_file_hashes(hashes)

    rematcher = SeenUploadWriter(
        stack.store, stack.lists.current_revision, keeper, match, stack.actions
    )
    jobs = RetroactiveJobs(
        stack.jobs,
        stack.store,
        stack.lists,
        stack.actions,
        poll_interval=0.01,
        rematch_seen=rematcher.rematch_marked,
    )
    jobs.start_worker()
    try:
        deadline = time.monotonic() + 10
        while stack.store.seen_to_rematch(10) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        jobs.stop_worker()
    assert stack.store.seen_to_rematch(10) == []
    [report] = stack.store.list_reports(ReportStatus.PENDING)
    assert report.retroactive
    assert rematcher.rematch_marked() == 0
    assert len(stack.store.list_reports()) == 1


def test_a_block_only_match_is_answered_at_once_and_its_hit_claimed_when_written() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list("blocking", actions="block"), actor="t")
    stack.admin.add_entries("blocking", [entry("known", md5=MD5)], actor="t")
    stack.keeper.ensure_fresh()
    service, writer = _with_writer(stack)
    writer.start()
    try:
        answer = service.match_hashes_at_once({"md5": MD5})
        assert answer is not None
        assert [m.entry_id for m in answer.matches] == ["known"]
        assert answer.outcome.block is True
        assert answer.outcome.actions == ["block"]
        assert answer.upload_id is None
        assert stack.store.count_seen() == 0  # buffered
    finally:
        writer.stop()
    assert stack.store.count_seen() == 1
    [stored] = stack.store.seen_with_digests(HashAlgorithm.MD5, [MD5])
    assert stored.upload_id is not None
    # The hit was claimed with the row: retroactive matching will not act on it again.
    assert stack.store.claim_hit(stored.upload_id, "blocking", "known") is False


def test_matches_whose_actions_store_something_wait_for_their_records() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list("reporting", actions="block,report"), actor="t")
    stack.admin.add_entries("reporting", [entry("known", md5=MD5)], actor="t")
    stack.keeper.ensure_fresh()
    service, writer = _with_writer(stack)
    writer.start()
    try:
        assert service.match_hashes_at_once({"md5": MD5}) is None  # report: the slow path
        answer = service.match_hashes({"md5": MD5})
        assert answer.upload_id is not None
        assert answer.outcome.report_id is not None
    finally:
        writer.stop()


# --- rows written at once: marked with the revision they were matched at ------------------


def test_an_upload_recorded_late_is_rematched_when_its_lists_changed_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(), actor="t")
    service, writer = _with_writer(stack)

    def store_down(*_: object) -> int:
        raise OSError("the store is down")

    monkeypatch.setattr(stack.store, "add_seen", store_down)
    answer = service.match_hashes({"md5": MD5})
    assert answer.upload_id is None
    assert not answer.matches
    monkeypatch.undo()
    # The hash becomes known before the upload is recorded: its job finds no row.
    assert stack.admin.add_entries("bad", [entry("late", md5=MD5)], actor="t").retroactive == ()
    assert service.record_deferred() == 1
    [row] = stack.store.seen_to_rematch(10)
    assert stack.store.list_reports() == []
    assert writer.rematch_marked() == 1
    [report] = stack.store.list_reports(ReportStatus.PENDING)
    assert (report.upload_id, report.retroactive) == (row.upload_id, True)


def test_a_rematch_claiming_a_hit_first_acts_once_and_the_answer_still_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(), actor="t")
    stack.admin.create_list(bad_list("other", actions="report"), actor="t")
    stack.admin.add_entries("bad", [entry("known", md5=MD5)], actor="t")
    service, writer = _with_writer(stack)
    add_seen = stack.store.add_seen

    def worker_comes_between(upload: SeenUpload, revision: int | None) -> int:
        stack.admin.add_entries("other", [entry("late", md5=MD5)], actor="t")
        upload_id = add_seen(upload, revision)  # marked: matched before "late" was added
        assert writer.rematch_marked() == 1  # before the writer claims its hits
        return upload_id

    monkeypatch.setattr(stack.store, "add_seen", worker_comes_between)
    answer = service.match_hashes({"md5": MD5})
    assert [m.entry_id for m in answer.matches] == ["known"]
    assert answer.outcome.block is True  # "bad" blocks: the answer needs no record for it
    assert answer.outcome.report_id is None  # the re-match drafted it, once
    [report] = stack.store.list_reports(ReportStatus.PENDING)
    assert report.retroactive
    assert sorted(m.entry_id for m in report.matches) == ["known", "late"]
    assert stack.store.seen_to_rematch(10) == []
