"""Tables of the matching service: API keys, seen uploads (hashes only), actions, audit."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

service_api_keys = Table(
    "service_api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("rate_per_minute", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

service_seen_uploads = Table(
    "service_seen_uploads",
    metadata,
    Column("upload_id", BigId, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("md5", String(32), nullable=True, index=True),
    Column("sha1", String(40), nullable=True, index=True),
    Column("sha256", String(64), nullable=True, index=True),
    Column("pdq", String(64), nullable=True),
    Column("pdq_quality", Integer, nullable=True),
    Column("size", BigId, nullable=True),
    Column("media_type", String(100), nullable=False),
    Column("content_id", String(200), nullable=True),
    Column("user_id", String(200), nullable=True),
    Column("screen_name", String(200), nullable=True),
    Column("ip_address", String(64), nullable=True),
    Column("uploaded_at", UtcDateTime, nullable=True),
    Column("file_name", String(500), nullable=True),
    # The list revision the row was matched at, while it owes a re-match (service_0005).
    Column("rematch_revision", BigInteger, nullable=True),
    Index(
        "ix_service_seen_uploads_rematch",
        "upload_id",
        postgresql_where=text("rematch_revision IS NOT NULL"),
        sqlite_where=text("rematch_revision IS NOT NULL"),
    ),
)

service_hits = Table(
    "service_hits",
    metadata,
    Column("upload_id", BigId, nullable=False),
    Column("list_name", String(200), nullable=False),
    Column("entry_id", String(200), nullable=False),
    PrimaryKeyConstraint("upload_id", "list_name", "entry_id"),
)

service_quarantine = Table(
    "service_quarantine",
    metadata,
    Column("item_id", BigId, primary_key=True, autoincrement=True),
    Column("upload_id", BigId, nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("retroactive", Boolean, nullable=False),
    Column("matches", Text, nullable=False),
)

service_reports = Table(
    "service_reports",
    metadata,
    Column("report_id", BigId, primary_key=True, autoincrement=True),
    Column("upload_id", BigId, nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("fields", Text, nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_note", Text, nullable=True),
)

service_webhook_targets = Table(
    "service_webhook_targets",
    metadata,
    Column("list_name", String(200), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
)

service_webhook_deliveries = Table(
    "service_webhook_deliveries",
    metadata,
    Column("delivery_id", BigId, primary_key=True, autoincrement=True),
    Column("list_name", String(200), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Index("ix_service_webhook_deliveries_due", "state", "next_attempt_at"),
)

service_audit = Table(
    "service_audit",
    metadata,
    Column("event_id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("detail", Text, nullable=False),
)

service_retroactive_jobs = Table(
    "service_retroactive_jobs",
    metadata,
    Column("job_id", BigId, primary_key=True, autoincrement=True),
    Column("list_name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("entry_ids", Text, nullable=True),
    Column("state", String(16), nullable=False),
    Column("cursor_upload_id", BigId, nullable=False),
    Column("uploads_checked", BigId, nullable=False),
    Column("hits", BigId, nullable=False),
    Column("hit_limit", BigId, nullable=True),
    Column("leased_by", String(200), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("note", Text, nullable=True),
    Index("ix_service_retroactive_jobs_state", "state", "job_id"),
    Index("ix_service_retroactive_jobs_list", "list_name", "job_id"),
)
