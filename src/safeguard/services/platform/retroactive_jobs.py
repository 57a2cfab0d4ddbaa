"""Retroactive matching as durable, bounded, resumable jobs.

A list change that adds entries records a job *before* it writes the list (`prepare`), in
state ``prepared``, and opens it once the change is committed (`start`); a change that
fails cancels it. So no crash can lose a change's re-matching: a job left ``prepared`` by a
process that died is taken by a worker after `PREPARED_GRACE` and run all the same (if the
change never committed, its entries are not there, and nothing matches).

A job is worked through in batches of past uploads, by upload id (`JobMatcher`). Each hit is
claimed in the store before its actions run (`ServiceStore.claim_hit`: a hit is acted on
once, whoever finds it), and after each batch the job's cursor, counts and lease are saved
in one conditional update that succeeds only while the worker still holds the job. A worker
that dies leaves a lease that runs out after `LEASE_SECONDS`; any worker then takes the job
over from its last saved cursor, and the hits of the unsaved batch it meets again are
already claimed, so none is acted on twice. What a crash can still lose is the actions of
the one hit claimed when it struck, as for a live match.

A job that reaches its hit limit (`MAX_HITS_PER_CHANGE`) is ``held``: so many hits mean a
mistaken entry or threshold, and a person resumes it (optionally with a new limit) or
cancels it; both are audited.

The worker also re-matches the seen uploads whose write marked them as owing a re-match
(`safeguard.services.platform.seen_uploads`), before it looks for jobs: the process that
wrote them may not match them again itself, or may have died before it did.

A job's cursor is an upload id, and it only moves forward. On PostgreSQL ids are drawn from
a sequence before their rows commit, so a row may commit after a job's cursor has passed
its id (on SQLite writes are serialised, and ids commit in order). No hit is lost by that,
because every write of a matched upload gives the list revision it was matched at, and its
transaction reads the committed revision after the insert under a share lock on the
revision's row, marking the row if it was matched at an older one
(`safeguard.storage.sql.seen_rematch`). Take a change C (its job starts once C committed)
and a row that job misses, which therefore committed after C did:

* matched at C's revision or a later one: its own match had C's entries, and its hits were
  claimed and acted on when it was written;
* matched earlier, and its transaction read the revision after C committed: it was marked,
  and the worker re-matches it against the whole index, C's entries included;
* matched earlier, and it read the revision before C bumped it: C's bump waited for its
  share lock, so C committed after the row, and the job, started after C, sees the row;
* read while C held the revision's row (C being made): it was marked all the same.

Rows written with no revision (`ServiceStore.add_seen(upload, None)`; the service writes
none) have no such cover.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count

from safeguard.domain.cases import AuditEvent
from safeguard.domain.errors import StorageError
from safeguard.domain.matches import DEFAULT_PDQ_THRESHOLD
from safeguard.domain.retroactive_jobs import (
    BATCH_UPLOADS,
    LEASE_SECONDS,
    MAX_HITS_PER_CHANGE,
    RetroactiveJob,
    RetroactiveState,
)
from safeguard.services.background_loop import BackgroundLoop
from safeguard.services.platform.actions import ActionService
from safeguard.services.platform.retroactive import RetroactiveHit
from safeguard.services.platform.retroactive_steps import JobSteps
from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.retroactive_job_store import RetroactiveJobStore
from safeguard.storage.service_store import ServiceStore

logger = logging.getLogger(__name__)

PREPARED_GRACE = timedelta(hours=1)
"""How long a ``prepared`` job waits for its list change before a worker runs it anyway:
longer than any import takes."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _never() -> bool:
    return False


class RetroactiveJobs:
    """Records, runs and manages retroactive jobs; thread-safe, one per process or more.

    Args:
        jobs: where jobs are kept.
        store: past uploads, hit claims and the audit log.
        lists: the list store (the entries and settings a job matches with).
        actions: runs the lists' actions on hits.
        default_threshold: the PDQ threshold of lists without their own.
        max_hits: hits after which a new job is held; None: never held.
        batch_size: past uploads per step.
        lease_seconds: see `LEASE_SECONDS`.
        poll_interval: seconds between the background worker's looks for jobs.
        rematch_seen: re-matches the seen uploads marked as owing a re-match, until none
            is left or its argument (a stop test) says so; returns how many. Run by
            `run_pending` and by every pass of the background worker, before the jobs.
    """

    def __init__(
        self,
        jobs: RetroactiveJobStore,
        store: ServiceStore,
        lists: HashListStore,
        actions: ActionService,
        default_threshold: int = DEFAULT_PDQ_THRESHOLD,
        *,
        max_hits: int | None = MAX_HITS_PER_CHANGE,
        batch_size: int = BATCH_UPLOADS,
        lease_seconds: float = LEASE_SECONDS,
        poll_interval: float = 2.0,
        clock: Callable[[], datetime] = _utcnow,
        rematch_seen: Callable[[Callable[[], bool]], int] | None = None,
    ) -> None:
        self._jobs = jobs
        self._rematch_seen = rematch_seen
        self._store = store
        self._max_hits = max_hits
        self._lease = timedelta(seconds=lease_seconds)
        self._steps = JobSteps(
            jobs, store, lists, actions, default_threshold, batch_size, self._lease, clock
        )
        self._clock = clock
        self._name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._claims = count(1)
        self._worker = BackgroundLoop(
            "retroactive-jobs",
            lambda: self._run_pending(None, lambda: self._worker.stopping),
            poll_interval,
            failure="retroactive job pass failed",
        )

    # --- reading --------------------------------------------------------------------------

    def jobs(self, list_name: str | None = None, limit: int = 100) -> list[RetroactiveJob]:
        """Jobs, newest first, optionally of one list."""
        return self._jobs.list_jobs(list_name, limit)

    def get(self, job_id: int) -> RetroactiveJob:
        """One job.

        Raises:
            NotFoundError: no such job.
        """
        return self._jobs.get_job(job_id)

    # --- list changes ---------------------------------------------------------------------

    def prepare(
        self, list_name: str, entry_ids: Sequence[str] | None, actor: str
    ) -> RetroactiveJob:
        """Record the job of a list change about to be made (before it is made).

        Args:
            list_name: the list ("" when an import names it from the file).
            entry_ids: the ids of the entries being added; None for a whole list's.
            actor: who makes the change.
        """
        return self._jobs.add_job(
            RetroactiveJob(
                list_name=list_name,
                created_at=self._clock(),
                created_by=actor,
                entry_ids=None if entry_ids is None else tuple(dict.fromkeys(entry_ids)),
                hit_limit=self._max_hits,
            )
        )

    def abandon(self, job: RetroactiveJob, reason: str) -> RetroactiveJob:
        """Cancel a prepared job whose list change failed or needs no re-matching."""
        now = self._clock()
        cancelled = replace(
            job, state=RetroactiveState.CANCELLED, finished_at=now, updated_at=now, note=reason
        )
        if self._jobs.update_job(cancelled, RetroactiveState.PREPARED):
            return cancelled
        return self._jobs.get_job(job.job_id)

    def start(
        self, job: RetroactiveJob, list_name: str, batches: int | None = None
    ) -> tuple[RetroactiveJob, list[RetroactiveHit]]:
        """Open a prepared job once its list change is committed, and run some of it now.

        Args:
            job: the prepared job.
            list_name: the list's name (an import may only now know it).
            batches: steps to run at once: None runs the job until it ends or is held;
                0 leaves it all to a worker (the server's, or ``lists retroactive run``).

        Returns:
            The job as it stands, and the hits acted on here.
        """
        now = self._clock()
        if batches == 0:
            opened = replace(job, list_name=list_name, state=RetroactiveState.PENDING)
            if self._jobs.update_job(opened, RetroactiveState.PREPARED):
                self.wake()
            return self._jobs.get_job(job.job_id), []
        token = self._token()
        opened = replace(
            job,
            list_name=list_name,
            state=RetroactiveState.RUNNING,
            leased_by=token,
            lease_until=now + self._lease,
            started_at=now,
        )
        if not self._jobs.update_job(opened, RetroactiveState.PREPARED):
            return self._jobs.get_job(job.job_id), []  # a worker took it already
        return self._run_leased(opened, token, batches, _never)

    # --- people's decisions ---------------------------------------------------------------

    def resume(self, job_id: int, actor: str, hit_limit: int | None = None) -> RetroactiveJob:
        """Let a held job go on; `hit_limit` is its new limit (None: no limit). Audited.

        Raises:
            NotFoundError: no such job.
            StorageError: the job is not held.
        """
        job = self._jobs.get_job(job_id)
        if job.state is not RetroactiveState.HELD:
            raise StorageError(f"retroactive job {job_id} is {job.state.value}, not held")
        resumed = replace(
            job,
            state=RetroactiveState.PENDING,
            hit_limit=hit_limit,
            leased_by=None,
            lease_until=None,
            updated_at=self._clock(),
            note=None,
        )
        if not self._jobs.update_job(resumed, RetroactiveState.HELD):
            raise StorageError(f"retroactive job {job_id} changed meanwhile; look again")
        limit = "none" if hit_limit is None else str(hit_limit)
        self._audit(actor, "list.retroactive_resumed", job, hit_limit=limit)
        self.wake()
        return resumed

    def cancel(self, job_id: int, actor: str) -> RetroactiveJob:
        """Stop a job that has not ended (a running one stops after its current step).

        Raises:
            NotFoundError: no such job.
            StorageError: the job has ended already.
        """
        for _ in range(5):  # a running job's saves race with this; look again a few times
            job = self._jobs.get_job(job_id)
            if job.state.is_final:
                raise StorageError(f"retroactive job {job_id} is {job.state.value} already")
            now = self._clock()
            cancelled = replace(
                job,
                state=RetroactiveState.CANCELLED,
                leased_by=None,
                lease_until=None,
                updated_at=now,
                finished_at=now,
                note=f"cancelled by {actor}",
            )
            if self._jobs.update_job(cancelled, job.state):
                self._audit(actor, "list.retroactive_cancelled", job)
                return cancelled
        raise StorageError(f"retroactive job {job_id} keeps changing; try again")

    # --- workers --------------------------------------------------------------------------

    def run_pending(self, max_jobs: int | None = None) -> list[RetroactiveJob]:
        """Run jobs free to run, each until it ends, is held or is lost; returns them.

        Seen uploads marked as owing a re-match are re-matched first (see `rematch_seen`).
        """
        return self._run_pending(max_jobs, _never)

    def _run_pending(self, max_jobs: int | None, stop: Callable[[], bool]) -> list[RetroactiveJob]:
        if self._rematch_seen is not None:
            try:
                self._rematch_seen(stop)
            except Exception:  # the marks stay: the next pass tries again; jobs run meanwhile
                logger.exception("re-matching marked seen uploads failed")
        done: list[RetroactiveJob] = []
        while (max_jobs is None or len(done) < max_jobs) and not stop():
            job = self._claim()
            if job is None:
                break
            done.append(self._run_leased(job, job.leased_by or "", None, stop)[0])
        return done

    def wake(self) -> None:
        """Look for jobs now rather than at the next poll (the background worker)."""
        self._worker.wake()

    @property
    def running(self) -> bool:
        """True while the background worker runs."""
        return self._worker.running

    def start_worker(self) -> None:
        """Run pending jobs from a background thread (the server's); idempotent."""
        self._worker.start()

    def stop_worker(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current step; its job is released for any worker."""
        self._worker.stop(timeout)

    # --- running one job ------------------------------------------------------------------

    def _token(self) -> str:
        # One lease token per claim: two runs in one process never pass for each other.
        return f"{self._name}/{next(self._claims)}"

    def _claim(self) -> RetroactiveJob | None:
        now = self._clock()
        return self._jobs.claim_job(
            self._token(), now, now + self._lease, prepared_before=now - PREPARED_GRACE
        )

    def _run_leased(
        self, job: RetroactiveJob, token: str, batches: int | None, stop: Callable[[], bool]
    ) -> tuple[RetroactiveJob, list[RetroactiveHit]]:
        """Run batches of a job leased under `token`; release it if stopped before its end.

        `stop` is the background worker's: a server shutting down leaves the rest of the
        job (released at once) to another process.
        """
        job, hits = self._steps.run(job, token, batches, stop)
        if job.state is RetroactiveState.RUNNING:
            released = replace(
                job, state=RetroactiveState.PENDING, leased_by=None, lease_until=None
            )
            if self._jobs.update_job(released, RetroactiveState.RUNNING, worker=token):
                job = released
                self.wake()
        return job, hits

    def _audit(self, actor: str, verb: str, job: RetroactiveJob, **detail: str) -> None:
        self._store.add_audit(
            AuditEvent(
                at=self._clock(),
                actor=actor,
                action=verb,
                detail={"list": job.list_name, "job": str(job.job_id), **detail},
            )
        )
