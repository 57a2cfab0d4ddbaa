"""Matching service: token buckets of rate limits shared by replicas through PostgreSQL.

Revision ID: service_0003
Revises: service_0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "service_0003"
down_revision = "service_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_rate_buckets",
        sa.Column("bucket", sa.String(200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name="pk_service_rate_buckets"),
    )


def downgrade() -> None:
    op.drop_table("service_rate_buckets")
