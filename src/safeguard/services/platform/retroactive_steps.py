"""Running one leased retroactive job, batch by batch, saving its progress after each.

`JobSteps.run` is what a worker does while it holds a job's lease: compile the job's
entries once (`JobMatcher`), then per batch find the past uploads that match, claim each hit
(`ServiceStore.claim_hit`: a hit is acted on once, whoever finds it) before running its
actions, and save the job's cursor, counts and renewed lease in one conditional update that
succeeds only while the worker still holds the job. A worker that lost the job (its lease
ran out and another took it, or a person cancelled it) stops at that save.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from safeguard.domain.errors import NotFoundError
from safeguard.domain.matches import effective_pdq_threshold
from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState
from safeguard.services.platform.actions import ActionService
from safeguard.services.platform.retroactive import JobMatcher, RetroactiveHit
from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.retroactive_job_store import RetroactiveJobStore
from safeguard.storage.service_store import ServiceStore

logger = logging.getLogger(__name__)

RETRY_SECONDS = 60.0
"""Wait before a job whose step failed (e.g. the store was unreachable) is tried again."""


class JobSteps:
    """Runs batches of jobs leased to the caller.

    Args:
        jobs: where jobs are kept.
        store: past uploads and hit claims.
        lists: the list store (the entries and settings a job matches with).
        actions: runs the list's actions on hits.
        default_threshold: the PDQ threshold of lists without their own.
        batch_size: past uploads per step.
        lease: how long a saved step extends the worker's lease.
        clock: the time now.
    """

    def __init__(
        self,
        jobs: RetroactiveJobStore,
        store: ServiceStore,
        lists: HashListStore,
        actions: ActionService,
        default_threshold: int,
        batch_size: int,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._jobs = jobs
        self._store = store
        self._lists = lists
        self._actions = actions
        self._default_threshold = default_threshold
        self._batch_size = max(1, batch_size)
        self._lease = lease
        self._clock = clock

    def run(
        self,
        job: RetroactiveJob,
        token: str,
        batches: int | None,
        stop: Callable[[], bool],
    ) -> tuple[RetroactiveJob, list[RetroactiveHit]]:
        """Run up to `batches` steps (None: until the job ends, is held, or `stop()`).

        Returns:
            The job as it stands (still ``running`` and leased under `token` when the
            batches ran out first; the caller releases it) and the hits acted on.
        """
        hits: list[RetroactiveHit] = []
        try:
            # Nothing kept after the cursor (a new service, or all covered): the job ends at its
            # first step without reading the change's entries, which for a large import would
            # cost seconds and memory in proportion to the list.
            pending = self._store.seen_hashes_after(job.cursor, 1)
            matcher = self._matcher(job) if pending else JobMatcher(())
            steps = 0
            while job.state is RetroactiveState.RUNNING and (batches is None or steps < batches):
                if batches is None and stop():
                    break
                job, found, kept = self._step(job, token, matcher)
                hits.extend(found)
                steps += 1
                if not kept:
                    return self._jobs.get_job(job.job_id), hits  # taken over or cancelled
        except Exception as exc:
            logger.exception("retroactive job %s failed a step", job.job_id)
            now = self._clock()
            retry = replace(
                job,
                state=RetroactiveState.PENDING,
                leased_by=None,
                lease_until=now + timedelta(seconds=RETRY_SECONDS),
                updated_at=now,
                note=f"step failed ({type(exc).__name__}); retried",
            )
            self._jobs.update_job(retry, RetroactiveState.RUNNING, worker=token)
            return self._jobs.get_job(job.job_id), hits
        return job, hits

    def _matcher(self, job: RetroactiveJob) -> JobMatcher:
        try:
            self._lists.get_list(job.list_name)
        except NotFoundError:
            return JobMatcher(())
        if job.entry_ids is None:
            return JobMatcher(self._lists.iter_entries(job.list_name))
        # A few entries added to a large list: fetched by id, not found by reading the list.
        return JobMatcher(self._lists.entries_with_ids(job.list_name, job.entry_ids))

    def _step(
        self, job: RetroactiveJob, token: str, matcher: JobMatcher
    ) -> tuple[RetroactiveJob, list[RetroactiveHit], bool]:
        """One batch: match, claim and act, then save progress if still leased.

        Returns:
            The job as saved, the hits acted on, and whether the lease was still held
            (False: another worker took the job over, or a person cancelled it).
        """
        try:
            hash_list = self._lists.get_list(job.list_name)
        except NotFoundError:
            note = f"no list {job.list_name!r}: removed, or its change never finished"
            return self._save(job, token, RetroactiveState.CANCELLED, job.cursor, 0, [], note)
        if not hash_list.enabled:
            note = "the list is disabled: past uploads were not re-matched"
            return self._save(job, token, RetroactiveState.DONE, job.cursor, 0, [], note)
        threshold = effective_pdq_threshold(hash_list.pdq_threshold, self._default_threshold)
        batch = matcher.next_batch(self._store, job.cursor, self._batch_size)
        found = matcher.matches(hash_list, batch.uploads, threshold)
        lists = {hash_list.name: hash_list}
        hits: list[RetroactiveHit] = []
        for checked, upload in enumerate(batch.uploads):
            matches = found.get(upload.upload_id)
            if matches:
                if job.hit_limit is not None and job.hits + len(hits) >= job.hit_limit:
                    note = (
                        f"held after acting on {job.hits + len(hits):,} past uploads (the limit "
                        "for one change): so many hits suggest a mistaken entry or threshold; "
                        "resume or cancel it"
                    )
                    logger.warning("retroactive job %s of %r held", job.job_id, job.list_name)
                    cursor = upload.upload_id - 1
                    return self._save(
                        job, token, RetroactiveState.HELD, cursor, checked, hits, note
                    )
                fresh = [
                    m
                    for m in matches
                    if self._store.claim_hit(upload.upload_id, m.list_name, m.entry_id)
                ]
                if fresh:
                    stored = self._store.get_seen(upload.upload_id)
                    fresh = [
                        m if m.is_exact else replace(m, query_quality=stored.pdq_quality)
                        for m in fresh
                    ]
                    outcome = self._actions.act(stored, fresh, lists, retroactive=True)
                    hits.append(RetroactiveHit(upload.upload_id, tuple(fresh), outcome))
        state = RetroactiveState.DONE if batch.exhausted else RetroactiveState.RUNNING
        return self._save(job, token, state, batch.cursor, batch.checked, hits, None)

    def _save(
        self,
        job: RetroactiveJob,
        token: str,
        state: RetroactiveState,
        cursor: int,
        checked: int,
        hits: list[RetroactiveHit],
        note: str | None,
    ) -> tuple[RetroactiveJob, list[RetroactiveHit], bool]:
        now = self._clock()
        running = state is RetroactiveState.RUNNING
        saved = replace(
            job,
            state=state,
            cursor=max(job.cursor, cursor),
            uploads_checked=job.uploads_checked + checked,
            hits=job.hits + len(hits),
            leased_by=token if running else None,
            lease_until=now + self._lease if running else None,
            updated_at=now,
            finished_at=now if state.is_final else None,
            note=note,
        )
        kept = self._jobs.update_job(saved, RetroactiveState.RUNNING, worker=token)
        if not kept:
            logger.warning("retroactive job %s was taken over or cancelled", job.job_id)
        return saved, hits, kept
