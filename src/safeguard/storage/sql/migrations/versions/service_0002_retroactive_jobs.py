"""Matching service: retroactive matching jobs, resumable from their cursor.

Revision ID: service_0002
Revises: service_0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "service_0002"
down_revision = "service_0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Utc = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_retroactive_jobs",
        sa.Column("job_id", BigId, autoincrement=True, nullable=False),
        sa.Column("list_name", sa.String(200), nullable=False),
        sa.Column("created_at", Utc, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("entry_ids", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cursor_upload_id", BigId, nullable=False),
        sa.Column("uploads_checked", BigId, nullable=False),
        sa.Column("hits", BigId, nullable=False),
        sa.Column("hit_limit", BigId, nullable=True),
        sa.Column("leased_by", sa.String(200), nullable=True),
        sa.Column("lease_until", Utc, nullable=True),
        sa.Column("started_at", Utc, nullable=True),
        sa.Column("updated_at", Utc, nullable=True),
        sa.Column("finished_at", Utc, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_service_retroactive_jobs"),
    )
    op.create_index(
        "ix_service_retroactive_jobs_state", "service_retroactive_jobs", ["state", "job_id"]
    )
    op.create_index(
        "ix_service_retroactive_jobs_list", "service_retroactive_jobs", ["list_name", "job_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_service_retroactive_jobs_list", "service_retroactive_jobs")
    op.drop_index("ix_service_retroactive_jobs_state", "service_retroactive_jobs")
    op.drop_table("service_retroactive_jobs")
