"""Retroactive jobs: bounded batches, resumed after a crash, one worker at a time, held."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest

from safeguard.domain.errors import InvalidDigestError, StorageError
from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState
from safeguard.domain.service import ReportStatus
from safeguard.services.platform.retroactive_jobs import PREPARED_GRACE, RetroactiveJobs
from safeguard.storage.memory_retroactive_jobs import MemoryRetroactiveJobStore
from tests.unit.services.service_stack import (
    ServiceStack,
    bad_list,
    build_stack,
    entry,
    flip_bits,
)

PDQ = "9" * 16 + "3" * 16 + "a" * 16 + "5" * 16
MD5 = "4" * 32


class Crash(BaseException):
    """What a killed process looks like to the code that was running: nothing after it."""


class CrashingJobStore(MemoryRetroactiveJobStore):
    """Shares a real store's jobs; raises `Crash` on the chosen save of progress."""

    def __init__(self, real: MemoryRetroactiveJobStore, crash_on_save: int) -> None:
        super().__init__()
        self._real = real
        self._saves = 0
        self._crash_on_save = crash_on_save

    def add_job(self, job: RetroactiveJob) -> RetroactiveJob:
        return self._real.add_job(job)

    def get_job(self, job_id: int) -> RetroactiveJob:
        return self._real.get_job(job_id)

    def list_jobs(self, list_name: str | None = None, limit: int = 100) -> list[RetroactiveJob]:
        return self._real.list_jobs(list_name, limit)

    def claim_job(
        self, worker: str, now: datetime, lease_until: datetime, prepared_before: datetime
    ) -> RetroactiveJob | None:
        return self._real.claim_job(worker, now, lease_until, prepared_before)

    def update_job(
        self, job: RetroactiveJob, expected: RetroactiveState, worker: str | None = None
    ) -> bool:
        if expected is RetroactiveState.RUNNING and worker is not None:
            self._saves += 1
            if self._saves == self._crash_on_save:
                raise Crash
        return self._real.update_job(job, expected, worker)


def runner(stack: ServiceStack, **options: object) -> RetroactiveJobs:
    """Another process's job runner on the same stores (its own worker name)."""
    jobs = options.pop("jobs", stack.jobs)
    return RetroactiveJobs(
        jobs,  # type: ignore[arg-type]
        stack.store,
        stack.lists,
        stack.actions,
        clock=stack.clock,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def stack() -> ServiceStack:
    stack = build_stack()
    stack.admin.create_list(bad_list(actions="report"), "t")
    return stack


def past_uploads(stack: ServiceStack, count: int) -> list[int]:
    """`count` past uploads near PDQ (some also with MD5), with unrelated ones between."""
    ids = []
    for n in range(count):
        hashes = {"pdq": flip_bits(PDQ, n % 20 + 1)}
        if n % 3 == 0:
            hashes["md5"] = MD5
        ids.append(stack.matching.match_hashes(hashes).upload_id or 0)
        stack.matching.match_hashes({"sha256": f"{n:064x}"})
    return ids


def reported_uploads(stack: ServiceStack) -> Counter[int]:
    return Counter(r.upload_id for r in stack.store.list_reports(limit=10_000))


def run_to_end(stack: ServiceStack, batch_size: int) -> RetroactiveJob:
    jobs = runner(stack, batch_size=batch_size)
    stack.clock.advance(3600)  # past any lease a crashed worker left
    [job] = jobs.run_pending()
    return job


@pytest.mark.parametrize("crash_on_save", [1, 2])
def test_a_crashed_job_resumes_from_its_cursor_and_acts_on_each_hit_once(
    stack: ServiceStack, crash_on_save: int
) -> None:
    ids = past_uploads(stack, 12)
    crashing = runner(
        stack, batch_size=5, jobs=CrashingJobStore(stack.jobs, crash_on_save=crash_on_save)
    )
    job = crashing.prepare("bad", ["e1"], "t")
    stack.lists.add_entries("bad", [entry("e1", pdq=PDQ, md5=MD5)])
    # crash_on_save 1: killed saving its first batch; 2: after the first was saved
    with pytest.raises(Crash):
        crashing.start(job, "bad")
    left = stack.jobs.get_job(job.job_id)
    assert left.state is RetroactiveState.RUNNING
    seen = [u.upload_id for u in stack.store.seen_hashes_after(0, 1000)]
    saved_batches = crash_on_save - 1
    assert left.cursor == (seen[5 * saved_batches - 1] if saved_batches else 0)
    # the batch being saved when it died had acted already
    acted = [i for i in ids if i <= seen[5 * crash_on_save - 1]]
    assert reported_uploads(stack) == Counter(acted)
    # before the lease runs out nobody else may take the job
    assert runner(stack).run_pending() == []
    done = run_to_end(stack, batch_size=5)
    assert done.job_id == job.job_id
    assert done.state is RetroactiveState.DONE
    assert reported_uploads(stack) == Counter(ids)  # every hit, each exactly once
    # hits of the batch that died unsaved were acted on but are not counted
    assert done.hits == left.hits + len(ids) - len(acted)


def test_exact_only_jobs_look_uploads_up_in_batches(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 9)
    md5_ids = ids[::3]
    jobs = runner(stack, batch_size=2)
    job = jobs.prepare("bad", ["m"], "t")
    stack.lists.add_entries("bad", [entry("m", md5=MD5)])
    job, hits = jobs.start(job, "bad", batches=1)
    assert [h.upload_id for h in hits] == md5_ids[:2]
    assert job.state is RetroactiveState.PENDING  # released for a worker
    assert job.cursor == md5_ids[1]
    assert job.uploads_checked == 2  # looked up, never scanned
    job = run_to_end(stack, batch_size=2)
    assert job.state is RetroactiveState.DONE
    assert reported_uploads(stack) == Counter(md5_ids)


def test_two_workers_never_run_one_job_at_once(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 6)
    first = runner(stack, batch_size=2)
    second = runner(stack, batch_size=2)
    job = first.prepare("bad", ["e1"], "t")
    stack.lists.add_entries("bad", [entry("e1", pdq=PDQ)])
    job, _ = first.start(job, "bad", batches=0)  # left to the workers
    assert job.state is RetroactiveState.PENDING
    now = stack.clock()
    taken = stack.jobs.claim_job("elsewhere", now, now.replace(minute=2), now)
    assert taken is not None
    assert stack.jobs.claim_job("another", now, now.replace(minute=2), now) is None
    assert second.run_pending() == []  # "elsewhere" holds it: its lease has not run out
    stack.clock.advance(121)  # "elsewhere" died without renewing its lease
    [done] = second.run_pending()
    assert done.state is RetroactiveState.DONE
    assert reported_uploads(stack) == Counter(ids)
    # the dead worker's late save is refused: the job is no longer its own
    assert not stack.jobs.update_job(taken, RetroactiveState.RUNNING, "elsewhere")


def test_concurrent_workers_share_jobs_and_act_once(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 30)
    for _ in range(4):  # the same entry added four times: four jobs, the same hits
        jobs = runner(stack)
        job = jobs.prepare("bad", ["e1"], "t")
        stack.lists.add_entries("bad", [entry("e1", pdq=PDQ)])
        jobs.start(job, "bad", batches=0)
    workers = [runner(stack, batch_size=3) for _ in range(4)]
    runs: list[list[RetroactiveJob]] = []
    threads = [threading.Thread(target=lambda w=w: runs.append(w.run_pending())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_ids = [job.job_id for run in runs for job in run]
    assert sorted(run_ids) == [1, 2, 3, 4]  # each job ran to its end in one worker
    assert reported_uploads(stack) == Counter(ids)


def test_a_held_job_waits_for_a_person_who_resumes_it(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 8)
    jobs = runner(stack, max_hits=3, batch_size=4)
    job = jobs.prepare("bad", ["wide"], "t")
    stack.lists.add_entries("bad", [entry("wide", pdq=PDQ)])
    job, hits = jobs.start(job, "bad")
    assert len(hits) == 3
    assert job.state is RetroactiveState.HELD
    assert "mistaken entry or threshold" in (job.note or "")
    assert job.cursor == ids[3] - 1  # the fourth hit is still to do
    assert jobs.run_pending() == []  # nobody runs a held job
    resumed = jobs.resume(job.job_id, "admin", hit_limit=5)
    assert resumed.state is RetroactiveState.PENDING
    [again] = jobs.run_pending()
    assert again.state is RetroactiveState.HELD
    assert again.hits == 5
    jobs.resume(job.job_id, "admin")
    [done] = jobs.run_pending()
    assert done.state is RetroactiveState.DONE
    assert reported_uploads(stack) == Counter(ids)
    with pytest.raises(StorageError):
        jobs.resume(job.job_id, "admin")
    audit = [e for e in stack.store.list_audit() if e.action.startswith("list.retroactive")]
    assert [e.action for e in audit] == ["list.retroactive_resumed"] * 2
    assert audit[0].detail == {"list": "bad", "job": str(job.job_id), "hit_limit": "none"}
    assert audit[0].actor == "admin"


def test_a_held_job_can_be_cancelled(stack: ServiceStack) -> None:
    past_uploads(stack, 5)
    jobs = runner(stack, max_hits=2)
    job = jobs.prepare("bad", ["wide"], "t")
    stack.lists.add_entries("bad", [entry("wide", pdq=PDQ)])
    job, _ = jobs.start(job, "bad")
    cancelled = jobs.cancel(job.job_id, "admin")
    assert cancelled.state is RetroactiveState.CANCELLED
    assert cancelled.finished_at is not None
    assert jobs.run_pending() == []
    assert len(stack.store.list_reports(ReportStatus.PENDING)) == 2
    with pytest.raises(StorageError):
        jobs.cancel(job.job_id, "admin")
    [event] = [e for e in stack.store.list_audit() if e.action == "list.retroactive_cancelled"]
    assert event.detail["job"] == str(job.job_id)


def test_a_cancelled_running_job_stops_after_its_batch(stack: ServiceStack) -> None:
    past_uploads(stack, 10)
    jobs = runner(stack, batch_size=4)
    job = jobs.prepare("bad", ["wide"], "t")
    stack.lists.add_entries("bad", [entry("wide", pdq=PDQ)])
    job, hits = jobs.start(job, "bad", batches=1)
    claimed = stack.jobs.claim_job("w", stack.clock(), stack.clock(), stack.clock())
    assert claimed is not None
    jobs.cancel(job.job_id, "admin")
    assert not stack.jobs.update_job(claimed, RetroactiveState.RUNNING, "w")
    assert stack.jobs.get_job(job.job_id).state is RetroactiveState.CANCELLED
    assert len(reported_uploads(stack)) == len(hits)


def test_a_job_left_prepared_by_a_crash_runs_after_the_grace(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 4)
    jobs = runner(stack)
    jobs.prepare("bad", ["e1"], "t")
    stack.lists.add_entries("bad", [entry("e1", pdq=PDQ)])  # then the process died
    assert jobs.run_pending() == []  # its change may still be under way
    stack.clock.advance(PREPARED_GRACE.total_seconds() + 1)
    [job] = jobs.run_pending()
    assert job.state is RetroactiveState.DONE
    assert reported_uploads(stack) == Counter(ids)


def test_a_failed_change_cancels_its_job(stack: ServiceStack) -> None:
    with pytest.raises(InvalidDigestError):
        stack.admin.add_entries("bad", [entry("x", md5="not hex")], "t")
    [job] = stack.retroactive.jobs("bad")
    assert job.state is RetroactiveState.CANCELLED
    assert "failed" in (job.note or "")


def test_jobs_of_removed_or_disabled_lists_end_without_acting(stack: ServiceStack) -> None:
    past_uploads(stack, 3)
    jobs = runner(stack)
    stack.admin.create_list(bad_list("gone"), "t")
    gone = jobs.prepare("gone", ["e1"], "t")
    stack.lists.add_entries("gone", [entry("e1", pdq=PDQ)])
    stack.admin.remove_list("gone", "t")
    gone, _ = jobs.start(gone, "gone")
    assert gone.state is RetroactiveState.CANCELLED
    stack.admin.update_list("bad", "t", enabled=False)
    change = stack.admin.add_entries("bad", [entry("e2", pdq=PDQ)], "t")
    assert change.retroactive_job is not None
    assert change.retroactive_job.state is RetroactiveState.DONE
    assert "disabled" in (change.retroactive_job.note or "")
    assert reported_uploads(stack) == Counter()


def test_list_changes_record_jobs_and_leave_the_rest_to_a_worker(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 6)
    change = stack.admin.add_entries("bad", [entry("e1", pdq=PDQ)], "t", retroactive_batches=0)
    job = change.retroactive_job
    assert job is not None
    assert job.state is RetroactiveState.PENDING
    assert job.entry_ids == ("e1",)
    assert change.retroactive == ()
    [done] = stack.retroactive.run_pending()
    assert done.hits == len(ids)
    assert stack.retroactive.get(job.job_id).state is RetroactiveState.DONE


def test_the_background_worker_runs_pending_jobs(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 3)
    jobs = runner(stack, poll_interval=0.05)
    jobs.start_worker()
    try:
        change = stack.admin.add_entries("bad", [entry("e1", pdq=PDQ)], "t", retroactive_batches=0)
        assert change.retroactive_job is not None
        jobs.wake()
        _wait_for(lambda: stack.jobs.get_job(1).state is RetroactiveState.DONE)
    finally:
        jobs.stop_worker()
    assert not jobs.running
    assert reported_uploads(stack) == Counter(ids)


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    event = threading.Event()
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        event.wait(0.02)
    raise AssertionError("timed out")


def test_a_stopping_worker_releases_its_job_and_inline_runs_go_on(stack: ServiceStack) -> None:
    ids = past_uploads(stack, 30)
    jobs = runner(stack, batch_size=1, poll_interval=0.01)
    change = stack.admin.add_entries("bad", [entry("e1", pdq=PDQ)], "t", retroactive_batches=0)
    assert change.retroactive_job is not None
    job_id = change.retroactive_job.job_id
    jobs.start_worker()
    _wait_for(lambda: stack.jobs.get_job(job_id).state is not RetroactiveState.PENDING)
    jobs.stop_worker()
    left = stack.jobs.get_job(job_id)
    assert left.state in (RetroactiveState.PENDING, RetroactiveState.DONE)
    assert left.leased_by is None  # released at once, for any other worker
    job = jobs.prepare("bad", ["e2"], "t")
    stack.lists.add_entries("bad", [entry("e2", md5=MD5)])
    job, _ = jobs.start(job, "bad")  # a stopped worker does not stop calls made inline
    assert job.state is RetroactiveState.DONE
    jobs.run_pending()
    # one report per hit: e1 (PDQ) on every upload, e2 (MD5) on every third
    assert reported_uploads(stack) == Counter(ids) + Counter(ids[::3])


def test_a_job_with_no_past_uploads_ends_without_reading_the_entries(
    stack: ServiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first import into a new service: reading every entry would cost seconds per
    # million and memory in proportion, for nothing to compare them with.
    def refuse(name: str) -> object:
        raise AssertionError("entries read")

    job = stack.retroactive.prepare("bad", ["e1"], "t")
    stack.lists.add_entries("bad", [entry("e1", pdq=PDQ, md5=MD5)])
    monkeypatch.setattr(stack.lists, "iter_entries", refuse)
    stack.retroactive.start(job, "bad")
    done = stack.jobs.get_job(job.job_id)
    assert done.state is RetroactiveState.DONE
    assert (done.uploads_checked, done.hits) == (0, 0)


def test_a_failing_seen_upload_rematch_is_logged_and_the_jobs_still_run(
    stack: ServiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    ids = past_uploads(stack, 3)
    calls: list[bool] = []

    def rematch_seen(stop: Callable[[], bool]) -> int:
        calls.append(stop())
        raise RuntimeError("store unreachable")

    jobs = runner(stack, rematch_seen=rematch_seen)
    stack.admin.add_entries("bad", [entry("e1", pdq=PDQ)], "t", retroactive_batches=0)
    [done] = jobs.run_pending()
    assert done.state is RetroactiveState.DONE
    assert calls == [False]
    assert "re-matching marked seen uploads failed" in caplog.text
    assert reported_uploads(stack) == Counter(ids)
