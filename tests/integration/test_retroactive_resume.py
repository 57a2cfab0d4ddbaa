"""Retroactive jobs on SQLite and PostgreSQL: a process killed between batches is resumed by
a new one from the saved cursor, and workers racing for jobs act on every hit once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguard.bootstrap import Services, build_services
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState
from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
from safeguard.settings import Settings
from safeguard.storage.sql.retroactive_jobs import SqlRetroactiveJobStore

PDQ = "9" * 16 + "3" * 16 + "a" * 16 + "5" * 16


class Killed(BaseException):
    """The process died: nothing after this runs."""


class DyingJobStore(SqlRetroactiveJobStore):
    """Dies while saving the progress of the chosen batch."""

    def __init__(self, services: Services, die_on_save: int) -> None:
        super().__init__(services.engine)
        self._saves = 0
        self._die_on_save = die_on_save

    def update_job(
        self, job: RetroactiveJob, expected: RetroactiveState, worker: str | None = None
    ) -> bool:
        if expected is RetroactiveState.RUNNING and worker is not None:
            self._saves += 1
            if self._saves == self._die_on_save:
                raise Killed
        return super().update_job(job, expected, worker)


def near(bits: int) -> str:
    return f"{int(PDQ, 16) ^ ((1 << bits) - 1):064x}"


def runner(services: Services, clock: datetime, **options: object) -> RetroactiveJobs:
    jobs = options.pop("jobs", SqlRetroactiveJobStore(services.engine))
    return RetroactiveJobs(
        jobs,  # type: ignore[arg-type]
        services.service_store,
        services.hash_list_store,
        services.service_actions,
        clock=lambda: clock,
        **options,  # type: ignore[arg-type]
    )


def with_past_uploads(services: Services, count: int) -> list[int]:
    services.hash_list_store.import_list(
        HashList(name="bad", kind=ListKind.KNOWN_BAD, action="report"), []
    )
    ids = []
    for n in range(count):
        ids.append(services.upload_matching.match_hashes({"pdq": near(n % 20 + 1)}).upload_id)
        services.upload_matching.match_hashes({"sha256": f"{n:064x}"})
    return [i or 0 for i in ids]


def reported(services: Services) -> Counter[int]:
    return Counter(r.upload_id for r in services.service_store.list_reports(limit=10_000))


@pytest.mark.parametrize("die_on_save", [1, 3])
def test_a_job_killed_between_batches_is_resumed_by_a_new_process(
    process: Callable[[], Services], die_on_save: int
) -> None:
    first = process()
    ids = with_past_uploads(first, 15)
    now = datetime.now(UTC)
    dying = runner(first, now, batch_size=6, jobs=DyingJobStore(first, die_on_save))
    job = dying.prepare("bad", ["e1"], "t")
    first.hash_list_store.add_entries("bad", [HashEntry("e1", {HashAlgorithm.PDQ: PDQ})])
    with pytest.raises(Killed):
        dying.start(job, "bad")
    first.engine.dispose()

    restarted = process()
    left = restarted.retroactive_jobs.get(job.job_id)
    assert left.state is RetroactiveState.RUNNING
    assert left.cursor > 0 or die_on_save == 1
    # within the dead process's lease nobody takes it; after it, the new process does
    assert runner(restarted, now).run_pending() == []
    [done] = runner(restarted, now + timedelta(minutes=3), batch_size=6).run_pending()
    assert done.job_id == job.job_id
    assert done.state is RetroactiveState.DONE
    assert done.uploads_checked == len(ids)  # those with a PDQ hash; the unsaved batch once
    assert reported(restarted) == Counter(ids)  # every hit acted on, exactly once


def test_workers_racing_for_jobs_run_each_once_and_act_once(
    process: Callable[[], Services],
) -> None:
    services = process()
    ids = with_past_uploads(services, 12)
    now = datetime.now(UTC)
    for _ in range(3):  # the same entry added three times: three jobs, the same hits
        change = services.list_administration.add_entries(
            "bad", [HashEntry("e1", {HashAlgorithm.PDQ: PDQ})], "t", retroactive_batches=0
        )
        assert change.retroactive_job is not None
    workers = [runner(process(), now, batch_size=4) for _ in range(3)]
    runs: list[list[RetroactiveJob]] = []
    threads = [threading.Thread(target=lambda w=w: runs.append(w.run_pending())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ran = sorted(job.job_id for run in runs for job in run)
    assert ran == sorted(j.job_id for j in services.retroactive_jobs.jobs("bad"))
    assert all(job.state is RetroactiveState.DONE for run in runs for job in run)
    assert reported(services) == Counter(ids)


def test_batch_size_hit_limit_and_lease_come_from_the_settings(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        retroactive_batch_uploads=4,
        retroactive_hit_limit=0,
        retroactive_lease_seconds=30,
    )
    services = build_services(settings)
    try:
        with_past_uploads(services, 10)
        admin = services.list_administration
        entry = HashEntry("e1", {HashAlgorithm.PDQ: PDQ})
        change = admin.add_entries("bad", [entry], "t", retroactive_batches=1)
        job = change.retroactive_job
        assert job is not None
        assert job.hit_limit is None  # 0: never held
        assert (job.state, job.uploads_checked, job.hits) == (RetroactiveState.PENDING, 4, 4)

        def dies(*args: object, **kwargs: object) -> bool:
            raise Killed

        # The next job's worker dies at its first save: its lease is what it was given.
        monkeypatch.setattr(SqlRetroactiveJobStore, "update_job", dies)
        before = datetime.now(UTC)
        with pytest.raises(Killed):
            services.retroactive_jobs.run_pending()
        after = datetime.now(UTC)
        monkeypatch.undo()
        leased = services.retroactive_jobs.get(job.job_id)
        assert leased.state is RetroactiveState.RUNNING
        assert leased.lease_until is not None
        lease = timedelta(seconds=30)
        assert before + lease <= leased.lease_until <= after + lease
    finally:
        services.engine.dispose()
