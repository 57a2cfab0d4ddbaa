"""Retroactive matching jobs: re-matching past uploads after a list gains entries.

A job is recorded before its list change is made and is worked through in bounded batches
of past uploads, ordered by upload id. Its cursor (the last upload id done) and counts are
saved after every batch, so a job whose process died is resumed where it stopped, by any
process, once its lease runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

BATCH_UPLOADS = 10_000
"""Past uploads compared per step by default; a job's progress is saved after each step
(``SAFEGUARD_RETROACTIVE_BATCH_UPLOADS``)."""

MAX_HITS_PER_CHANGE = 1000
"""Past uploads acted on (reports drafted, webhooks queued) for one list change, by default,
before its job is held for a person to look at (``SAFEGUARD_RETROACTIVE_HIT_LIMIT``)."""

LEASE_SECONDS = 120
"""How long a worker holds a job after each saved step by default; a dead worker's job is
taken over after this. One step must take less (``SAFEGUARD_RETROACTIVE_LEASE_SECONDS``)."""


class RetroactiveState(StrEnum):
    """Where a retroactive job stands.

    ``prepared``: recorded, its list change not yet known to be committed; ``pending``:
    waiting for a worker; ``running``: leased to a worker until ``lease_until``;
    ``held``: stopped at its hit limit until a person resumes or cancels it; ``done`` and
    ``cancelled`` are final.
    """

    PREPARED = "prepared"
    PENDING = "pending"
    RUNNING = "running"
    HELD = "held"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """True for ``done`` and ``cancelled``: nothing more will happen."""
        return self in (RetroactiveState.DONE, RetroactiveState.CANCELLED)


@dataclass(frozen=True, slots=True)
class RetroactiveJob:
    """One list change's re-matching of past uploads.

    Attributes:
        list_name: the list that gained entries ("" while an import's name is unknown).
        created_at: when the job was recorded.
        created_by: who made the list change.
        entry_ids: the added entries' ids; None for every entry of the list (an import).
        state: see `RetroactiveState`.
        cursor: the id of the last past upload done; uploads after it are still to do.
        uploads_checked: past uploads compared so far.
        hits: past uploads acted on (reports drafted, webhooks queued) by this job.
        hit_limit: hits after which the job is held; None once a person lifted it.
        leased_by: the worker running it, while ``running``.
        lease_until: while ``running``, when another worker may take it over; while
            ``pending``, when it may be taken at the earliest (None: at once).
        started_at: when a worker first took it.
        updated_at: when its progress was last saved.
        finished_at: when it ended (done or cancelled).
        note: why it is held or cancelled, or the last error, for people.
        job_id: the store's id; 0 before it is stored.
    """

    list_name: str
    created_at: datetime
    created_by: str
    entry_ids: tuple[str, ...] | None = None
    state: RetroactiveState = RetroactiveState.PREPARED
    cursor: int = 0
    uploads_checked: int = 0
    hits: int = 0
    hit_limit: int | None = None
    leased_by: str | None = None
    lease_until: datetime | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    note: str | None = None
    job_id: int = 0
