"""Hash lists: an index on PhotoDNA values, which are now matched by equal value.

Revision ID: photodna_0001
Revises:
"""

from alembic import op

revision = "photodna_0001"
down_revision = None
branch_labels = ("photodna",)
depends_on = "lists_0001"


def upgrade() -> None:
    op.create_index("ix_hash_list_entries_photodna", "hash_list_entries", ["photodna"])


def downgrade() -> None:
    op.drop_index("ix_hash_list_entries_photodna", table_name="hash_list_entries")
