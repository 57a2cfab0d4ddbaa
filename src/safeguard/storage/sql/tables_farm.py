"""Tables of the triage farm: the queue of exhibit scans shared by every farm node."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

farm_scan_jobs = Table(
    "farm_scan_jobs",
    metadata,
    Column("job_id", BigId, primary_key=True, autoincrement=True),
    Column("case_number", String(200), nullable=False),
    Column("exhibit_path", Text, nullable=False),
    Column("exhibit_reference", String(500), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("leased_by", String(200), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("submitted_by", String(200), nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_farm_scan_jobs_state", "state", "job_id"),
)
