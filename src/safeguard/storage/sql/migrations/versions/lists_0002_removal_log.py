"""Hash lists: log removed entries without a PDQ hash too, for exact-digest indexes.

Revision ID: lists_0002
Revises: lists_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0002"
down_revision = "lists_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hash_list_removals",
        sa.Column("row_id", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("row_id", name="pk_hash_list_removals"),
    )
    op.create_index("ix_hash_list_removals_revision", "hash_list_removals", ["revision"])


def downgrade() -> None:
    op.drop_index("ix_hash_list_removals_revision", "hash_list_removals")
    op.drop_table("hash_list_removals")
