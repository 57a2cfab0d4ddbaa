"""The farm's queue: the same contract on the in-memory fake, SQLite and live PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguard.domain.errors import NotFoundError
from safeguard.domain.farm import JobState, NewScanJob
from safeguard.storage.memory_scan_queue import MemoryScanQueue
from safeguard.storage.scan_queue import ScanQueue
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.scan_queue import SqlScanQueue
from tests.conftest import private_postgres_database

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScanQueue]:
    if request.param == "memory":
        yield MemoryScanQueue()
        return
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'farm.db'}")
        upgrade_schema(engine)
        yield SqlScanQueue(engine)
        engine.dispose()
        return
    with private_postgres_database("safeguard_farm") as url:
        engine = make_engine(url)
        upgrade_schema(engine)
        yield SqlScanQueue(engine)
        engine.dispose()


def _jobs(*names: str) -> list[NewScanJob]:
    return [NewScanJob("OP-1", f"/evidence/{n}", n, "examiner-a") for n in names]


def test_submit_once_claim_finish(queue: ScanQueue) -> None:
    added = queue.submit(_jobs("JB/1", "JB/2"), T0)
    assert [j.exhibit_reference for j in added] == ["JB/1", "JB/2"]
    assert queue.submit(_jobs("JB/1"), T0) == []  # already queued
    (first,) = queue.claim("node-a", 1, T0, T0 + HOUR)
    assert (first.exhibit_reference, first.state, first.attempts) == ("JB/1", JobState.RUNNING, 1)
    assert first.leased_by == "node-a"
    (second,) = queue.claim("node-b", 5, T0, T0 + HOUR)
    assert second.exhibit_reference == "JB/2"
    assert queue.claim("node-c", 5, T0, T0 + HOUR) == []
    with pytest.raises(NotFoundError):
        queue.finish(first.job_id, "node-b", T0, None)
    done = queue.finish(first.job_id, "node-a", T0 + HOUR / 2, None)
    assert done.state is JobState.DONE
    assert queue.submit(_jobs("JB/1"), T0) != []  # finished: may be queued again


def test_expired_lease_is_taken_again_and_requeue_keeps_the_error(queue: ScanQueue) -> None:
    queue.submit(_jobs("JB/1"), T0)
    (held,) = queue.claim("lost-node", 1, T0, T0 + HOUR)
    assert queue.claim("node-b", 1, T0 + HOUR / 2, T0 + 2 * HOUR) == []
    (again,) = queue.claim("node-b", 1, T0 + 2 * HOUR, T0 + 3 * HOUR)
    assert (again.job_id, again.attempts, again.leased_by) == (held.job_id, 2, "node-b")
    with pytest.raises(NotFoundError):
        queue.requeue(held.job_id, "lost-node", "too late")
    back = queue.requeue(again.job_id, "node-b", "RayError: node lost")
    assert (back.state, back.error, back.leased_by) == (
        JobState.QUEUED,
        "RayError: node lost",
        None,
    )
    failed = queue.claim("node-c", 1, T0 + 3 * HOUR, T0 + 4 * HOUR)[0]
    assert queue.finish(failed.job_id, "node-c", T0, "gave up").state is JobState.FAILED


def test_renew_extends_only_the_holders_lease(queue: ScanQueue) -> None:
    queue.submit(_jobs("JB/1"), T0)
    (held,) = queue.claim("node-a", 1, T0, T0 + HOUR)
    queue.renew([held.job_id], "node-b", T0 + 10 * HOUR)
    assert queue.jobs()[0].lease_until == T0 + HOUR
    queue.renew([held.job_id], "node-a", T0 + 10 * HOUR)
    assert queue.jobs("OP-1")[0].lease_until == T0 + 10 * HOUR
    assert queue.jobs("OTHER") == []


def test_racing_workers_never_take_the_same_job(queue: ScanQueue) -> None:
    queue.submit(_jobs(*(f"JB/{i}" for i in range(40))), T0)
    taken: list[list[int]] = [[] for _ in range(4)]

    def worker(index: int) -> None:
        while claimed := queue.claim(f"node-{index}", 3, T0, T0 + HOUR):
            taken[index] += [j.job_id for j in claimed]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [job_id for ids in taken for job_id in ids]
    assert len(every) == len(set(every)) == 40
