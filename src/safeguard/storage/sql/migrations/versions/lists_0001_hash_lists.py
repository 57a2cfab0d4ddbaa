"""Hash lists: lists, entries (one indexed column per digest, PDQ also as bytes), change log.

Revision ID: lists_0001
Revises:
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "lists_0001"
down_revision = None
branch_labels = ("lists",)
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hash_lists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("imported_at", _UTC, nullable=True),
        sa.Column("pdq_threshold", sa.Integer, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("action", sa.String(200), nullable=True),
        sa.Column("entry_count", sa.BigInteger, nullable=False),
        sa.Column("location", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hash_lists"),
        sa.UniqueConstraint("name", name="uq_hash_lists_name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "hash_list_entries",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("list_id", sa.Integer, nullable=False),
        sa.Column("entry_id", sa.Text, nullable=False),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha1", sa.String(40), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("pdq_bits", sa.LargeBinary(32), nullable=True),
        sa.Column("photodna", sa.Text, nullable=True),
        sa.Column("category_scheme", sa.String(50), nullable=False),
        sa.Column("category_code", sa.String(50), nullable=False),
        sa.Column("category_label", sa.Text, nullable=False),
        sa.Column("source_record_id", sa.Text, nullable=True),
        sa.Column("series", sa.Text, nullable=True),
        sa.Column("victim_identified", sa.Boolean, nullable=True),
        sa.Column("first_seen", sa.Date, nullable=True),
        sa.Column("last_seen", sa.Date, nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("file_name", sa.Text, nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("added_revision", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hash_list_entries"),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["hash_lists.id"],
            ondelete="CASCADE",
            name="fk_hash_list_entries_list_id_hash_lists",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hash_list_entries_list_entry", "hash_list_entries", ["list_id", "entry_id"])
    for column in ("md5", "sha1", "sha256", "added_revision"):
        op.create_index(f"ix_hash_list_entries_{column}", "hash_list_entries", [column])
    op.create_table(
        "hash_list_pdq_removals",
        sa.Column("row_id", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("row_id", name="pk_hash_list_pdq_removals"),
    )
    op.create_index("ix_hash_list_pdq_removals_revision", "hash_list_pdq_removals", ["revision"])
    state = op.create_table(
        "hash_list_state",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("store_identity", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hash_list_state"),
    )
    # The identity tells saved PDQ indexes of different databases apart.
    op.bulk_insert(state, [{"id": 1, "revision": 0, "store_identity": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("hash_list_state")
    op.drop_index("ix_hash_list_pdq_removals_revision", "hash_list_pdq_removals")
    op.drop_table("hash_list_pdq_removals")
    for column in ("md5", "sha1", "sha256", "added_revision"):
        op.drop_index(f"ix_hash_list_entries_{column}", "hash_list_entries")
    op.drop_index("ix_hash_list_entries_list_entry", "hash_list_entries")
    op.drop_table("hash_list_entries")
    op.drop_table("hash_lists")
