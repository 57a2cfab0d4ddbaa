"""Case store: frame time of a video's deciding match and the number of frames hashed.

Revision ID: cases_0002
Revises: cases_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0002"
down_revision = "cases_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns with no default: existing rows (pictures, other files) stay NULL.
    op.add_column("file_results", sa.Column("frame_seconds", sa.Float))
    op.add_column("file_results", sa.Column("video_frames", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("file_results") as batch:
        batch.drop_column("video_frames")
        batch.drop_column("frame_seconds")
