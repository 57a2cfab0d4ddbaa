"""Triage farm: many exhibits, many machines, one case store.

A national unit receives devices faster than one workstation can scan them. The farm
keeps a queue of exhibit scans in the shared case store (`ScanQueue`); any number of farm
workers (`safeguard farm work` on a Ray cluster, or on one box with the process pool) take
jobs under a lease and run them through the batch port, one exhibit per task. Each task is
an ordinary resumable scan (`TriageService.scan`) writing to the same case store, so:

* results of every node land in the one case store, keyed by (exhibit, path);
* a node lost mid-scan costs only its uncommitted batch: the batch backend re-runs the
  task elsewhere (Ray retries tasks whose node died), or the job goes back to the queue
  (a task that failed) or is taken again when its lease runs out (a farm worker that
  died), and the resumed scan skips every file already committed;
* progress is visible per exhibit (`status`): the job's state and attempts, and the files
  recorded so far by status, read from the case store while the scan runs.

Large exhibits are not split into jobs: inside a task the scan hashes its files with the
node's own process pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import cast

from safeguard.batch.contract import BatchRunner
from safeguard.domain.cases import FileStatus
from safeguard.domain.errors import EvidenceError, NotFoundError
from safeguard.domain.farm import NewScanJob, ScanJob
from safeguard.services.examiner.cases import Clock, utc_now
from safeguard.storage.case_store import CaseStore
from safeguard.storage.scan_queue import ScanQueue

DEFAULT_LEASE = timedelta(hours=1)
"""How long a farm worker holds a job before another may take it (renewed as jobs finish)."""

DEFAULT_MAX_ATTEMPTS = 3
"""Attempts before a job that keeps failing is marked failed instead of queued again."""


@dataclass(frozen=True, slots=True)
class FarmJobResult:
    """What one exhibit scan task did (returned from whichever node ran it)."""

    job_id: int
    recorded: int
    skipped: int
    counts: dict[str, int]
    node: str
    seconds: float


@dataclass(frozen=True, slots=True)
class FarmWorkOutcome:
    """What one `TriageFarm.work` call did."""

    done: list[FarmJobResult] = field(default_factory=list)
    requeued: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class JobProgress:
    """A job and the files its exhibit has recorded so far, by status."""

    job: ScanJob
    recorded: int
    counts: dict[FileStatus, int]


@dataclass(frozen=True, slots=True)
class _Failure:
    error: str


ScanTask = Callable[[ScanJob], FarmJobResult]
"""Runs one job's scan where the batch backend puts it: a picklable top-level callable."""


class TriageFarm:
    """Queue exhibit scans and work through the queue on the batch backend."""

    def __init__(
        self,
        queue: ScanQueue,
        store: CaseStore,
        runner: BatchRunner,
        scan_task: ScanTask,
        worker: str,
        clock: Clock = utc_now,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self._queue = queue
        self._store = store
        self._runner = runner
        self._scan_task = scan_task
        self._worker = worker
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts

    def submit(
        self,
        case_number: str,
        exhibits: Sequence[Path],
        submitted_by: str,
        references: Sequence[str] | None = None,
    ) -> list[ScanJob]:
        """Queue exhibits of a case; one already queued or running is not queued again.

        Paths must be readable at the same place on every farm node.

        Raises:
            NotFoundError: no such case.
            EvidenceError: an exhibit does not exist (nothing is queued then).
        """
        self._store.case_by_number(case_number)
        missing = [str(p) for p in exhibits if not p.exists()]
        if missing:
            raise EvidenceError(f"exhibit not found: {', '.join(missing)}")
        names = list(references) if references else [p.resolve().name for p in exhibits]
        jobs = [
            NewScanJob(case_number, str(path.resolve()), name, submitted_by)
            for path, name in zip(exhibits, names, strict=True)
        ]
        return self._queue.submit(jobs, self._clock())

    def work(
        self, on_result: Callable[[ScanJob, str | None], None] | None = None
    ) -> FarmWorkOutcome:
        """Take jobs and run them on the batch backend until the queue has none free.

        Args:
            on_result: called after each job with the job and its error (None when done).
        """
        started = time.monotonic()
        outcome = FarmWorkOutcome()
        batch = max(1, self._runner.workers) * 2
        while True:
            now = self._clock()
            jobs = self._queue.claim(self._worker, batch, now, now + self._lease)
            if not jobs:
                break
            results = cast(
                "Iterator[FarmJobResult | _Failure]",
                self._runner.map_ordered(self._scan_task, jobs, on_error=_failed),
            )
            pending = [job.job_id for job in jobs]
            for job, result in zip(jobs, results, strict=True):
                pending.remove(job.job_id)
                error = self._settle(job, result, outcome)
                self._queue.renew(pending, self._worker, self._clock() + self._lease)
                if on_result is not None:
                    on_result(job, error)
        return FarmWorkOutcome(
            outcome.done, outcome.requeued, outcome.failed, time.monotonic() - started
        )

    def _settle(
        self, job: ScanJob, result: FarmJobResult | _Failure, outcome: FarmWorkOutcome
    ) -> str | None:
        if isinstance(result, FarmJobResult):
            self._queue.finish(job.job_id, self._worker, self._clock(), None)
            outcome.done.append(result)
            return None
        if job.attempts < self._max_attempts:
            self._queue.requeue(job.job_id, self._worker, result.error)
            outcome.requeued.append((job.job_id, result.error))
        else:
            self._queue.finish(job.job_id, self._worker, self._clock(), result.error)
            outcome.failed.append((job.job_id, result.error))
        return result.error

    def status(self, case_number: str | None = None) -> list[JobProgress]:
        """Every job (of one case) with the files its exhibit has recorded so far."""
        progress: list[JobProgress] = []
        exhibits_of: dict[str, dict[str, int]] = {}
        for job in self._queue.jobs(case_number):
            if job.case_number not in exhibits_of:
                exhibits_of[job.case_number] = self._exhibit_ids(job.case_number)
            exhibit_id = exhibits_of[job.case_number].get(job.exhibit_reference)
            counts = self._store.status_counts(exhibit_id) if exhibit_id is not None else {}
            progress.append(JobProgress(job, sum(counts.values()), counts))
        return progress

    def _exhibit_ids(self, case_number: str) -> dict[str, int]:
        try:
            case = self._store.case_by_number(case_number)
        except NotFoundError:
            return {}
        return {e.reference: e.exhibit_id for e in self._store.exhibits(case.case_id)}


def _failed(job: ScanJob, exc: BaseException) -> _Failure:
    return _Failure(f"{type(exc).__name__}: {exc}")
