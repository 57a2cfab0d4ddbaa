"""The storage port of retroactive matching jobs (`RetroactiveJob`).

Kept apart from `ServiceStore`: jobs are a queue with leases, read and written by the job
runner of every process, while the service store holds what the jobs act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState


class RetroactiveJobStore(Protocol):
    """Persistent retroactive jobs.

    Implementations must be thread-safe and, when shared by several processes, make `claim_job` and `update_job` exclusive (a conditional update):
    of two workers racing for one job exactly one gets it.

    Methods that name a missing job raise `NotFoundError`.
    """

    def add_job(self, job: RetroactiveJob) -> RetroactiveJob:
        """Store a new job; returns it with its id."""
        ...

    def get_job(self, job_id: int) -> RetroactiveJob:
        """One job."""
        ...

    def list_jobs(self, list_name: str | None = None, limit: int = 100) -> list[RetroactiveJob]:
        """Jobs, newest first, optionally of one list."""
        ...

    def claim_job(
        self, worker: str, now: datetime, lease_until: datetime, prepared_before: datetime
    ) -> RetroactiveJob | None:
        """Lease the oldest job free to run to `worker` until `lease_until`; None if none is.

        Free to run: ``pending`` with no `lease_until` or one before `now`; ``running``
        with a lease that ran out before `now` (its worker died); ``prepared`` and recorded
        before `prepared_before` (its process died around the list change). The job comes
        back ``running``, leased to `worker`, with `started_at` set on its first claim.
        """
        ...

    def update_job(
        self, job: RetroactiveJob, expected: RetroactiveState, worker: str | None = None
    ) -> bool:
        """Save `job` (every field but its author, entries and creation time).

        Only if the stored job is still in state `expected` and, with `worker`, still
        leased to `worker`; returns False (and changes nothing) otherwise.
        """
        ...
