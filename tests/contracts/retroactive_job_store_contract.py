"""Conformance suite for `RetroactiveJobStore`: subclass and provide a `jobs` fixture."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from safeguard.domain.errors import NotFoundError
from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState
from safeguard.storage.retroactive_job_store import RetroactiveJobStore

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=2)


def a_job(**changes: object) -> RetroactiveJob:
    values: dict[str, object] = {
        "list_name": "bad",
        "created_at": T0,
        "created_by": "key:k1 (ops)",
        "entry_ids": ("e1", "e/2"),
        "hit_limit": 1000,
    }
    values.update(changes)
    return RetroactiveJob(**values)  # type: ignore[arg-type]


class RetroactiveJobStoreContract:
    @pytest.fixture
    def jobs(self) -> RetroactiveJobStore:
        raise NotImplementedError

    def test_jobs_round_trip(self, jobs: RetroactiveJobStore) -> None:
        first = jobs.add_job(a_job())
        second = jobs.add_job(a_job(list_name="other", entry_ids=None, hit_limit=None))
        assert first.job_id
        assert second.job_id > first.job_id
        assert jobs.get_job(first.job_id) == first
        assert first.entry_ids == ("e1", "e/2")
        assert first.state is RetroactiveState.PREPARED
        assert first.created_at == T0
        assert jobs.get_job(second.job_id).entry_ids is None
        assert [j.job_id for j in jobs.list_jobs()] == [second.job_id, first.job_id]
        assert [j.job_id for j in jobs.list_jobs("bad")] == [first.job_id]
        assert jobs.list_jobs(limit=1) == [jobs.get_job(second.job_id)]
        with pytest.raises(NotFoundError):
            jobs.get_job(999)

    def test_only_free_jobs_are_claimed_and_one_worker_gets_each(
        self, jobs: RetroactiveJobStore
    ) -> None:
        prepared = jobs.add_job(a_job())
        assert jobs.claim_job("w1", T0, LATER, prepared_before=T0) is None
        pending = jobs.add_job(a_job(state=RetroactiveState.PENDING, created_at=LATER))
        claimed = jobs.claim_job("w1", T0, LATER, prepared_before=T0)
        assert claimed is not None
        assert claimed.job_id == pending.job_id
        assert claimed.state is RetroactiveState.RUNNING
        assert claimed.leased_by == "w1"
        assert claimed.lease_until == LATER
        assert claimed.started_at == T0
        assert jobs.claim_job("w2", T0, LATER, prepared_before=T0) is None
        # a prepared job whose change is long over is taken; then w1's lease runs out
        much_later = LATER + timedelta(hours=1)
        stale = jobs.claim_job("w2", T0, much_later, prepared_before=T0 + timedelta(seconds=1))
        assert stale is not None
        assert stale.job_id == prepared.job_id
        after = LATER + timedelta(seconds=1)
        taken = jobs.claim_job("w3", after, after + timedelta(minutes=2), prepared_before=T0)
        assert taken is not None
        assert taken.job_id == pending.job_id
        assert taken.leased_by == "w3"
        assert taken.started_at == T0  # kept from the first claim
        assert not jobs.update_job(replace(claimed, cursor=5), RetroactiveState.RUNNING, "w1")
        assert jobs.get_job(pending.job_id).cursor == 0

    def test_a_pending_job_waits_for_its_not_before_time(self, jobs: RetroactiveJobStore) -> None:
        jobs.add_job(a_job(state=RetroactiveState.PENDING, lease_until=LATER))
        assert jobs.claim_job("w1", T0, LATER, prepared_before=T0) is None
        assert jobs.claim_job("w1", LATER + timedelta(seconds=1), LATER, T0) is not None

    def test_progress_is_saved_only_by_the_holder(self, jobs: RetroactiveJobStore) -> None:
        job = jobs.add_job(a_job(list_name=""))
        opened = replace(
            job,
            list_name="named-later",
            state=RetroactiveState.RUNNING,
            leased_by="w1",
            lease_until=LATER,
        )
        assert jobs.update_job(opened, RetroactiveState.PREPARED)
        assert not jobs.update_job(opened, RetroactiveState.PREPARED)
        step = replace(opened, cursor=42, uploads_checked=100, hits=3, updated_at=LATER)
        assert not jobs.update_job(step, RetroactiveState.RUNNING, "w2")
        assert jobs.update_job(step, RetroactiveState.RUNNING, "w1")
        held = replace(
            step, state=RetroactiveState.HELD, leased_by=None, lease_until=None, note="why"
        )
        assert jobs.update_job(held, RetroactiveState.RUNNING, "w1")
        stored = jobs.get_job(job.job_id)
        assert stored == replace(held, created_at=job.created_at)
        assert stored.list_name == "named-later"
        assert (stored.cursor, stored.uploads_checked, stored.hits) == (42, 100, 3)
        assert jobs.claim_job("w2", LATER, LATER, LATER) is None  # held: never claimed
        with pytest.raises(NotFoundError):
            jobs.update_job(replace(held, job_id=999), RetroactiveState.HELD)
