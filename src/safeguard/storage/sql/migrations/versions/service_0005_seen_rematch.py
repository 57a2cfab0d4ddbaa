"""Matching service: seen uploads marked, when written, as owing a re-match.

A batched write of seen uploads marks the rows that were matched at an older list revision
than the one committed when they were written (`storage.sql.seen_rematch`); any worker
re-matches them and clears the mark. Few rows are ever marked, so the index holds those only.

Revision ID: service_0004
Revises: service_0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "service_0005"
down_revision = "service_0004"
branch_labels = None
depends_on = None

_MARKED = sa.text("rematch_revision IS NOT NULL")


def upgrade() -> None:
    # Nullable without a default: PostgreSQL and SQLite add it without rewriting the table.
    op.add_column(
        "service_seen_uploads", sa.Column("rematch_revision", sa.BigInteger(), nullable=True)
    )
    op.create_index(
        "ix_service_seen_uploads_rematch",
        "service_seen_uploads",
        ["upload_id"],
        postgresql_where=_MARKED,
        sqlite_where=_MARKED,
    )


def downgrade() -> None:
    op.drop_index("ix_service_seen_uploads_rematch", "service_seen_uploads")
    with op.batch_alter_table("service_seen_uploads") as batch:
        batch.drop_column("rematch_revision")
