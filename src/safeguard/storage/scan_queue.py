"""The port for a triage farm's queue of exhibit scans (shared by every farm node)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from safeguard.domain.farm import NewScanJob, ScanJob


class ScanQueue(Protocol):
    """Exhibits waiting to be scanned, taken by workers under a lease.

    `claim` is atomic across processes and machines: two workers never take the same job
    while its lease holds. A job whose lease has run out is free to take again.
    """

    def submit(self, jobs: Sequence[NewScanJob], now: datetime) -> list[ScanJob]:
        """Queue jobs; an exhibit already queued or running for the case is not queued twice."""
        ...

    def claim(self, worker: str, count: int, now: datetime, lease_until: datetime) -> list[ScanJob]:
        """Take up to `count` queued jobs (or running ones whose lease ran out), oldest first."""
        ...

    def renew(self, job_ids: Sequence[int], worker: str, lease_until: datetime) -> None:
        """Extend the lease of jobs this worker holds."""
        ...

    def finish(self, job_id: int, worker: str, now: datetime, error: str | None) -> ScanJob:
        """Mark a job done (no error) or failed; only its lease holder may.

        Raises:
            NotFoundError: no such job, or it is not leased by `worker`.
        """
        ...

    def requeue(self, job_id: int, worker: str, error: str) -> ScanJob:
        """Put a job this worker holds back in the queue, keeping its error.

        Raises:
            NotFoundError: no such job, or it is not leased by `worker`.
        """
        ...

    def jobs(self, case_number: str | None = None) -> list[ScanJob]:
        """Every job (of one case), oldest first."""
        ...
