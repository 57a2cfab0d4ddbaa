"""In-memory `RetroactiveJobStore`: the fake for unit tests."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from safeguard.domain.errors import NotFoundError
from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState


class MemoryRetroactiveJobStore:
    """A thread-safe, process-local `RetroactiveJobStore`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, RetroactiveJob] = {}
        self._next_id = 0

    def add_job(self, job: RetroactiveJob) -> RetroactiveJob:
        """Store a new job."""
        with self._lock:
            self._next_id += 1
            stored = replace(job, job_id=self._next_id)
            self._jobs[stored.job_id] = stored
            return stored

    def get_job(self, job_id: int) -> RetroactiveJob:
        """One job."""
        try:
            return self._jobs[job_id]
        except KeyError:
            raise NotFoundError(f"no retroactive job {job_id}") from None

    def list_jobs(self, list_name: str | None = None, limit: int = 100) -> list[RetroactiveJob]:
        """Newest first."""
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: -j.job_id)
        return [j for j in jobs if list_name is None or j.list_name == list_name][:limit]

    def claim_job(
        self, worker: str, now: datetime, lease_until: datetime, prepared_before: datetime
    ) -> RetroactiveJob | None:
        """Lease the oldest free job."""
        with self._lock:
            for job in sorted(self._jobs.values(), key=lambda j: j.job_id):
                if _free(job, now, prepared_before):
                    claimed = replace(
                        job,
                        state=RetroactiveState.RUNNING,
                        leased_by=worker,
                        lease_until=lease_until,
                        started_at=job.started_at or now,
                    )
                    self._jobs[job.job_id] = claimed
                    return claimed
        return None

    def update_job(
        self, job: RetroactiveJob, expected: RetroactiveState, worker: str | None = None
    ) -> bool:
        """Save the job if it is still as expected."""
        with self._lock:
            current = self.get_job(job.job_id)
            if current.state is not expected:
                return False
            if worker is not None and current.leased_by != worker:
                return False
            self._jobs[job.job_id] = replace(
                job,
                created_at=current.created_at,
                created_by=current.created_by,
                entry_ids=current.entry_ids,
            )
            return True


def _free(job: RetroactiveJob, now: datetime, prepared_before: datetime) -> bool:
    if job.state is RetroactiveState.PENDING:
        return job.lease_until is None or job.lease_until < now
    if job.state is RetroactiveState.RUNNING:
        return job.lease_until is not None and job.lease_until < now
    if job.state is RetroactiveState.PREPARED:
        return job.created_at < prepared_before
    return False
