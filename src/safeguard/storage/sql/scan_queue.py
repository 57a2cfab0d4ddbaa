"""`ScanQueue` on SQLAlchemy Core, for SQLite and PostgreSQL (the farm's shared store)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from safeguard.domain.errors import NotFoundError
from safeguard.domain.farm import JobState, NewScanJob, ScanJob
from safeguard.storage.sql.tables_farm import farm_scan_jobs as jobs_table
from safeguard.storage.sql.utc import aware as _aware

_ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)


def _job(row: RowMapping) -> ScanJob:
    submitted = _aware(row["submitted_at"])
    assert submitted is not None
    return ScanJob(
        job_id=row["job_id"],
        case_number=row["case_number"],
        exhibit_path=row["exhibit_path"],
        exhibit_reference=row["exhibit_reference"],
        state=JobState(row["state"]),
        attempts=row["attempts"],
        leased_by=row["leased_by"],
        lease_until=_aware(row["lease_until"]),
        submitted_by=row["submitted_by"],
        submitted_at=submitted,
        started_at=_aware(row["started_at"]),
        finished_at=_aware(row["finished_at"]),
        error=row["error"],
    )


class SqlScanQueue:
    """The farm's queue in the case database.

    A claim is a conditional update per candidate (``WHERE job_id = ? AND still free``):
    of two workers racing for a job exactly one update changes a row, on SQLite and
    PostgreSQL alike, with no lock held between the read and the write.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def submit(self, jobs: Sequence[NewScanJob], now: datetime) -> list[ScanJob]:
        """See `ScanQueue.submit`."""
        added: list[ScanJob] = []
        with self._engine.begin() as conn:
            for new in jobs:
                active = conn.execute(
                    select(jobs_table.c.job_id).where(
                        jobs_table.c.case_number == new.case_number,
                        jobs_table.c.exhibit_reference == new.exhibit_reference,
                        jobs_table.c.state.in_(_ACTIVE),
                    )
                ).first()
                if active is not None:
                    continue
                job_id = conn.execute(
                    insert(jobs_table).values(
                        case_number=new.case_number,
                        exhibit_path=new.exhibit_path,
                        exhibit_reference=new.exhibit_reference,
                        state=JobState.QUEUED.value,
                        attempts=0,
                        submitted_by=new.submitted_by,
                        submitted_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                row = conn.execute(select(jobs_table).where(jobs_table.c.job_id == job_id))
                added.append(_job(row.mappings().one()))
        return added

    def claim(self, worker: str, count: int, now: datetime, lease_until: datetime) -> list[ScanJob]:
        """See `ScanQueue.claim`."""
        free = or_(
            jobs_table.c.state == JobState.QUEUED.value,
            and_(jobs_table.c.state == JobState.RUNNING.value, jobs_table.c.lease_until < now),
        )
        taken: list[ScanJob] = []
        with self._engine.begin() as conn:
            candidates = conn.execute(
                select(jobs_table.c.job_id).where(free).order_by(jobs_table.c.job_id).limit(count)
            ).scalars()
            for job_id in list(candidates):
                changed = conn.execute(
                    update(jobs_table)
                    .where(jobs_table.c.job_id == job_id, free)
                    .values(
                        state=JobState.RUNNING.value,
                        attempts=jobs_table.c.attempts + 1,
                        leased_by=worker,
                        lease_until=lease_until,
                    )
                )
                if changed.rowcount == 1:
                    conn.execute(
                        update(jobs_table)
                        .where(jobs_table.c.job_id == job_id, jobs_table.c.started_at.is_(None))
                        .values(started_at=now)
                    )
                    row = conn.execute(select(jobs_table).where(jobs_table.c.job_id == job_id))
                    taken.append(_job(row.mappings().one()))
        return taken

    def renew(self, job_ids: Sequence[int], worker: str, lease_until: datetime) -> None:
        """See `ScanQueue.renew`."""
        if not job_ids:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(jobs_table)
                .where(
                    jobs_table.c.job_id.in_(list(job_ids)),
                    jobs_table.c.leased_by == worker,
                    jobs_table.c.state == JobState.RUNNING.value,
                )
                .values(lease_until=lease_until)
            )

    def finish(self, job_id: int, worker: str, now: datetime, error: str | None) -> ScanJob:
        """See `ScanQueue.finish`."""
        state = JobState.FAILED if error else JobState.DONE
        return self._change_held(
            job_id, worker, state=state.value, finished_at=now, error=error, lease_until=None
        )

    def requeue(self, job_id: int, worker: str, error: str) -> ScanJob:
        """See `ScanQueue.requeue`."""
        return self._change_held(
            job_id, worker, state=JobState.QUEUED.value, leased_by=None, lease_until=None,
            error=error,
        )  # fmt: skip

    def jobs(self, case_number: str | None = None) -> list[ScanJob]:
        """See `ScanQueue.jobs`."""
        query = select(jobs_table).order_by(jobs_table.c.job_id)
        if case_number is not None:
            query = query.where(jobs_table.c.case_number == case_number)
        with self._engine.connect() as conn:
            return [_job(row) for row in conn.execute(query).mappings()]

    def _change_held(self, job_id: int, worker: str, **values: object) -> ScanJob:
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(jobs_table)
                .where(
                    jobs_table.c.job_id == job_id,
                    jobs_table.c.leased_by == worker,
                    jobs_table.c.state == JobState.RUNNING.value,
                )
                .values(**values)
            )
            if changed.rowcount != 1:
                raise NotFoundError(f"scan job {job_id} is not held by {worker}")
            row = conn.execute(select(jobs_table).where(jobs_table.c.job_id == job_id))
            return _job(row.mappings().one())
