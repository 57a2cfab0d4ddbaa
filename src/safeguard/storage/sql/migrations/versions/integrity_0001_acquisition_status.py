"""Exhibit integrity: the acquisition check in words and the segment files it covered.

Revision ID: integrity_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "integrity_0001"
down_revision = None
branch_labels = ("integrity",)
depends_on = "cases_0001"


def upgrade() -> None:
    # Nullable: exhibits scanned before this revision keep NULL ("not recorded").
    op.add_column("exhibits", sa.Column("acquisition_status", sa.Text))
    op.add_column("exhibits", sa.Column("acquisition_segments", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("exhibits") as batch:
        batch.drop_column("acquisition_segments")
        batch.drop_column("acquisition_status")
