"""`RetroactiveJobStore` on SQLAlchemy Core, for SQLite and PostgreSQL.

Claims and saves are conditional updates (``WHERE job_id = ? AND state = ? AND
leased_by = ?``): of two workers racing for one job exactly one update changes a row, on
SQLite and PostgreSQL alike, with no lock held between the read and the write.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from safeguard.domain.errors import NotFoundError
from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState
from safeguard.storage.sql.service_rows import new_id, utc
from safeguard.storage.sql.tables_service import service_retroactive_jobs as jobs_table
from safeguard.storage.sql.utc import aware, required

_CANDIDATES = 10


def _job(row: RowMapping) -> RetroactiveJob:
    entry_ids = row["entry_ids"]
    return RetroactiveJob(
        job_id=int(row["job_id"]),
        list_name=row["list_name"],
        created_at=required(row["created_at"]),
        created_by=row["created_by"],
        entry_ids=None if entry_ids is None else tuple(json.loads(entry_ids)),
        state=RetroactiveState(row["state"]),
        cursor=int(row["cursor_upload_id"]),
        uploads_checked=int(row["uploads_checked"]),
        hits=int(row["hits"]),
        hit_limit=None if row["hit_limit"] is None else int(row["hit_limit"]),
        leased_by=row["leased_by"],
        lease_until=aware(row["lease_until"]),
        started_at=aware(row["started_at"]),
        updated_at=aware(row["updated_at"]),
        finished_at=aware(row["finished_at"]),
        note=row["note"],
    )


def _progress(job: RetroactiveJob) -> dict[str, Any]:
    """The columns a save writes."""
    return {
        "list_name": job.list_name,
        "state": job.state.value,
        "cursor_upload_id": job.cursor,
        "uploads_checked": job.uploads_checked,
        "hits": job.hits,
        "hit_limit": job.hit_limit,
        "leased_by": job.leased_by,
        "lease_until": utc(job.lease_until),
        "started_at": utc(job.started_at),
        "updated_at": utc(job.updated_at),
        "finished_at": utc(job.finished_at),
        "note": job.note,
    }


class SqlRetroactiveJobStore:
    """Retroactive jobs in the service's database (schema ``service_0002``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_job(self, job: RetroactiveJob) -> RetroactiveJob:
        """Store a new job."""
        values = _progress(job)
        values.update(
            created_at=utc(job.created_at),
            created_by=job.created_by,
            entry_ids=None if job.entry_ids is None else json.dumps(list(job.entry_ids)),
        )
        with self._engine.begin() as conn:
            result = conn.execute(insert(jobs_table).values(**values))
            job_id = new_id(result.inserted_primary_key)
        return self.get_job(job_id)

    def get_job(self, job_id: int) -> RetroactiveJob:
        """One job."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(jobs_table).where(jobs_table.c.job_id == job_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"no retroactive job {job_id}")
        return _job(row)

    def list_jobs(self, list_name: str | None = None, limit: int = 100) -> list[RetroactiveJob]:
        """Newest first."""
        query = select(jobs_table).order_by(jobs_table.c.job_id.desc()).limit(limit)
        if list_name is not None:
            query = query.where(jobs_table.c.list_name == list_name)
        with self._engine.connect() as conn:
            return [_job(row) for row in conn.execute(query).mappings()]

    def claim_job(
        self, worker: str, now: datetime, lease_until: datetime, prepared_before: datetime
    ) -> RetroactiveJob | None:
        """Lease the oldest free job; a conditional update makes the claim exclusive."""
        table = jobs_table
        free = or_(
            and_(
                table.c.state == RetroactiveState.PENDING.value,
                or_(table.c.lease_until.is_(None), table.c.lease_until < utc(now)),
            ),
            and_(
                table.c.state == RetroactiveState.RUNNING.value,
                table.c.lease_until < utc(now),
            ),
            and_(
                table.c.state == RetroactiveState.PREPARED.value,
                table.c.created_at < utc(prepared_before),
            ),
        )
        with self._engine.connect() as conn:
            candidates = list(
                conn.execute(
                    select(table.c.job_id).where(free).order_by(table.c.job_id).limit(_CANDIDATES)
                ).scalars()
            )
        for job_id in candidates:
            with self._engine.begin() as conn:
                changed = conn.execute(
                    update(table)
                    .where(and_(table.c.job_id == job_id, free))
                    .values(
                        state=RetroactiveState.RUNNING.value,
                        leased_by=worker,
                        lease_until=utc(lease_until),
                    )
                )
                if changed.rowcount != 1:
                    continue  # another worker took it first
                conn.execute(
                    update(table)
                    .where(and_(table.c.job_id == job_id, table.c.started_at.is_(None)))
                    .values(started_at=utc(now))
                )
            return self.get_job(job_id)
        return None

    def update_job(
        self, job: RetroactiveJob, expected: RetroactiveState, worker: str | None = None
    ) -> bool:
        """Save the job if it is still in state `expected` (and leased to `worker`)."""
        table = jobs_table
        condition = and_(table.c.job_id == job.job_id, table.c.state == expected.value)
        if worker is not None:
            condition = and_(condition, table.c.leased_by == worker)
        with self._engine.begin() as conn:
            changed = conn.execute(update(table).where(condition).values(**_progress(job)))
        if changed.rowcount == 1:
            return True
        self.get_job(job.job_id)  # NotFoundError when there is no such job at all
        return False


__all__ = ["SqlRetroactiveJobStore"]
