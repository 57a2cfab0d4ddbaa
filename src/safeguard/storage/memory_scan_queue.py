"""In-memory `ScanQueue` for tests and one-process use."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from safeguard.domain.errors import NotFoundError
from safeguard.domain.farm import JobState, NewScanJob, ScanJob

_ACTIVE = (JobState.QUEUED, JobState.RUNNING)


class MemoryScanQueue:
    """A `ScanQueue` held in a dict; thread-safe, not shared between processes."""

    def __init__(self) -> None:
        self._jobs: dict[int, ScanJob] = {}
        self._lock = threading.Lock()

    def submit(self, jobs: Sequence[NewScanJob], now: datetime) -> list[ScanJob]:
        """See `ScanQueue.submit`."""
        with self._lock:
            added: list[ScanJob] = []
            for new in jobs:
                if any(
                    j.case_number == new.case_number
                    and j.exhibit_reference == new.exhibit_reference
                    and j.state in _ACTIVE
                    for j in self._jobs.values()
                ):
                    continue
                job = ScanJob(
                    len(self._jobs) + 1, new.case_number, new.exhibit_path,
                    new.exhibit_reference, JobState.QUEUED, 0, None, None,
                    new.submitted_by, now,
                )  # fmt: skip
                self._jobs[job.job_id] = job
                added.append(job)
            return added

    def claim(self, worker: str, count: int, now: datetime, lease_until: datetime) -> list[ScanJob]:
        """See `ScanQueue.claim`."""
        with self._lock:
            free = [
                j
                for j in sorted(self._jobs.values(), key=lambda j: j.job_id)
                if j.state is JobState.QUEUED
                or (
                    j.state is JobState.RUNNING
                    and j.lease_until is not None
                    and j.lease_until < now
                )
            ][:count]
            taken = []
            for job in free:
                job = replace(
                    job, state=JobState.RUNNING, attempts=job.attempts + 1, leased_by=worker,
                    lease_until=lease_until, started_at=job.started_at or now,
                )  # fmt: skip
                self._jobs[job.job_id] = job
                taken.append(job)
            return taken

    def renew(self, job_ids: Sequence[int], worker: str, lease_until: datetime) -> None:
        """See `ScanQueue.renew`."""
        with self._lock:
            for job_id in job_ids:
                job = self._jobs.get(job_id)
                if job is not None and job.leased_by == worker and job.state is JobState.RUNNING:
                    self._jobs[job_id] = replace(job, lease_until=lease_until)

    def finish(self, job_id: int, worker: str, now: datetime, error: str | None) -> ScanJob:
        """See `ScanQueue.finish`."""
        with self._lock:
            job = self._held(job_id, worker)
            state = JobState.FAILED if error else JobState.DONE
            job = replace(job, state=state, finished_at=now, error=error, lease_until=None)
            self._jobs[job_id] = job
            return job

    def requeue(self, job_id: int, worker: str, error: str) -> ScanJob:
        """See `ScanQueue.requeue`."""
        with self._lock:
            job = self._held(job_id, worker)
            job = replace(job, state=JobState.QUEUED, leased_by=None, lease_until=None, error=error)
            self._jobs[job_id] = job
            return job

    def jobs(self, case_number: str | None = None) -> list[ScanJob]:
        """See `ScanQueue.jobs`."""
        with self._lock:
            return [
                j
                for j in sorted(self._jobs.values(), key=lambda j: j.job_id)
                if case_number is None or j.case_number == case_number
            ]

    def _held(self, job_id: int, worker: str) -> ScanJob:
        job = self._jobs.get(job_id)
        if job is None or job.leased_by != worker or job.state is not JobState.RUNNING:
            raise NotFoundError(f"scan job {job_id} is not held by {worker}")
        return job
