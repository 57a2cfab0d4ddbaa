"""Triage farm: the queue of exhibit scans taken by farm nodes under a lease.

Revision ID: farm_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "farm_0001"
down_revision = None
branch_labels = ("farm",)
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "farm_scan_jobs",
        sa.Column("job_id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("case_number", sa.String(200), nullable=False),
        sa.Column("exhibit_path", sa.Text, nullable=False),
        sa.Column("exhibit_reference", sa.String(500), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("leased_by", sa.String(200), nullable=True),
        sa.Column("lease_until", _UTC, nullable=True),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", _UTC, nullable=False),
        sa.Column("started_at", _UTC, nullable=True),
        sa.Column("finished_at", _UTC, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_farm_scan_jobs_state", "farm_scan_jobs", ["state", "job_id"])


def downgrade() -> None:
    op.drop_index("ix_farm_scan_jobs_state", "farm_scan_jobs")
    op.drop_table("farm_scan_jobs")
