"""A triage farm's queue: exhibits waiting to be scanned by whichever machine is free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class JobState(StrEnum):
    """Where a queued exhibit scan stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ScanJob:
    """One exhibit to scan into a case, as the farm's queue holds it.

    Attributes:
        job_id: the queue's id, never reused.
        case_number: the case the exhibit belongs to.
        exhibit_path: where every farm node reads the exhibit (mounted read-only at the
            same path on each).
        exhibit_reference: the exhibit's reference within the case.
        state: queued, running (leased by a worker), done or failed.
        attempts: how many times a worker has taken it.
        leased_by: the worker that holds it while running.
        lease_until: a running job whose lease has passed is free to take again (its
            worker is presumed lost; the scan resumes from what was committed).
        submitted_by: who queued it.
        submitted_at, started_at, finished_at: times (UTC).
        error: why the last attempt failed, when it did.
    """

    job_id: int
    case_number: str
    exhibit_path: str
    exhibit_reference: str
    state: JobState
    attempts: int
    leased_by: str | None
    lease_until: datetime | None
    submitted_by: str
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NewScanJob:
    """A job to add to the queue."""

    case_number: str
    exhibit_path: str
    exhibit_reference: str
    submitted_by: str
