"""Matching service: API keys, seen uploads, hits, quarantine, reports, webhooks, audit.

Revision ID: service_0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "service_0001"
down_revision = None
branch_labels = ("service",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Utc = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_api_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=True),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("revoked_at", Utc, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_service_api_keys"),
    )
    op.create_table(
        "service_seen_uploads",
        sa.Column("upload_id", BigId, autoincrement=True, nullable=False),
        sa.Column("received_at", Utc, nullable=False),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha1", sa.String(40), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("size", BigId, nullable=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("content_id", sa.String(200), nullable=True),
        sa.Column("user_id", sa.String(200), nullable=True),
        sa.Column("screen_name", sa.String(200), nullable=True),
        sa.Column("ip_address", sa.String(64), nullable=True),
        sa.Column("uploaded_at", Utc, nullable=True),
        sa.Column("file_name", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("upload_id", name="pk_service_seen_uploads"),
    )
    for column in ("md5", "sha1", "sha256"):
        op.create_index(f"ix_service_seen_uploads_{column}", "service_seen_uploads", [column])
    op.create_table(
        "service_hits",
        sa.Column("upload_id", BigId, nullable=False),
        sa.Column("list_name", sa.String(200), nullable=False),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("upload_id", "list_name", "entry_id", name="pk_service_hits"),
    )
    op.create_table(
        "service_quarantine",
        sa.Column("item_id", BigId, autoincrement=True, nullable=False),
        sa.Column("upload_id", BigId, nullable=False),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("retroactive", sa.Boolean(), nullable=False),
        sa.Column("matches", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_service_quarantine"),
    )
    op.create_index("ix_service_quarantine_upload_id", "service_quarantine", ["upload_id"])
    op.create_table(
        "service_reports",
        sa.Column("report_id", BigId, autoincrement=True, nullable=False),
        sa.Column("upload_id", BigId, nullable=False),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", Utc, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("report_id", name="pk_service_reports"),
    )
    op.create_index("ix_service_reports_upload_id", "service_reports", ["upload_id"])
    op.create_index("ix_service_reports_status", "service_reports", ["status"])
    op.create_table(
        "service_webhook_targets",
        sa.Column("list_name", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("list_name", name="pk_service_webhook_targets"),
    )
    op.create_table(
        "service_webhook_deliveries",
        sa.Column("delivery_id", BigId, autoincrement=True, nullable=False),
        sa.Column("list_name", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("next_attempt_at", Utc, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", Utc, nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_service_webhook_deliveries"),
    )
    op.create_index(
        "ix_service_webhook_deliveries_due",
        "service_webhook_deliveries",
        ["state", "next_attempt_at"],
    )
    op.create_table(
        "service_audit",
        sa.Column("event_id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", Utc, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_service_audit"),
    )


def downgrade() -> None:
    for table in (
        "service_audit",
        "service_webhook_deliveries",
        "service_webhook_targets",
        "service_reports",
        "service_quarantine",
        "service_hits",
        "service_seen_uploads",
        "service_api_keys",
    ):
        op.drop_table(table)
