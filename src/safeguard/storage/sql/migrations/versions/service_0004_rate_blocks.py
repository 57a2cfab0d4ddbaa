"""Matching service: rate-limit buckets say how many tokens a call took (blocks, not one).

Workers lease blocks of tokens from the shared bucket (`storage/shared_rate_limits.py`), so
the statement that takes them returns how many it took. ``granted`` stays for replicas of
the previous release while a rolling upgrade runs.

Revision ID: service_0004
Revises: service_0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "service_0004"
down_revision = "service_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "service_rate_buckets",
        sa.Column("taken", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_column("service_rate_buckets", "taken")
