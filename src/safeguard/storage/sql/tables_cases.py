"""Tables of the case store: cases, exhibits, scan runs, file results, audit events."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

cases = Table(
    "cases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(200), nullable=False, unique=True),
    Column("examiner", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
)

exhibits = Table(
    "exhibits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("source_path", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("acquisition_hash", String(200)),
    Column("acquisition_verified", Boolean),
    Column("manifest_sha256", String(64)),
    # Branch "integrity": the acquisition check in words; JSON list of the files hashed.
    Column("acquisition_status", Text),
    Column("acquisition_segments", Text),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("case_id", "reference", name="uq_exhibits_case_reference"),
)

scan_runs = Table(
    "scan_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("exhibit_id", BigId, ForeignKey("exhibits.id"), nullable=False, index=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("tool_version", String(50), nullable=False),
    Column("examiner", String(200), nullable=False),
    # JSON text: [{"name", "kind", "version"}, ...] as they stood when the run started.
    Column("lists", Text, nullable=False, default="[]"),
    Column("state", String(20), nullable=False),
    Column("files_recorded", Integer, nullable=False, default=0),
)

file_results = Table(
    "file_results",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("exhibit_id", BigId, ForeignKey("exhibits.id"), nullable=False),
    Column("run_id", BigId, ForeignKey("scan_runs.id"), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("size", BigId),
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("pdq_quality", Integer),
    Column("media_type", String(100), nullable=False),
    Column("modified", UtcDateTime),
    Column("accessed", UtcDateTime),
    Column("created", UtcDateTime),
    Column("changed", UtcDateTime),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("error", Text),
    Column("category_scheme", String(50), nullable=False, default="none"),
    Column("category_code", String(20), nullable=False, default=""),
    Column("category_label", Text, nullable=False, default=""),
    # JSON text: [match_as_record(m), ...]; rarely non-empty, never queried by content.
    Column("matches", Text, nullable=False, default="[]"),
    # Videos: the deciding match's frame time and how many frames were hashed (cases_0002).
    Column("frame_seconds", Float),
    Column("video_frames", Integer),
    # The key a resumed scan upserts on.
    UniqueConstraint("exhibit_id", "path", name="uq_file_results_exhibit_path"),
)
Index("ix_file_results_exhibit_status", file_results.c.exhibit_id, file_results.c.status)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("case_id", BigId, ForeignKey("cases.id"), index=True),
    Column("exhibit_id", BigId, ForeignKey("exhibits.id")),
    Column("detail", Text, nullable=False, default="{}"),
)
