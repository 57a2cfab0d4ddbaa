"""Examiner review: items, grade history, schemes, reveal tickets, publications.

Revision ID: review_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "review_0001"
down_revision = None
branch_labels = ("review",)
# Items and grades refer to exhibits and cases.
depends_on = "cases_0001"

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("exhibit_id", _BIG_ID, sa.ForeignKey("exhibits.id"), primary_key=True),
        sa.Column("item_no", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("is_video", sa.Boolean, nullable=False),
        sa.Column("md5", sa.String(32)),
        sa.Column("sha1", sa.String(40)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("pdq", sa.String(64)),
        sa.Column("size", _BIG_ID),
        sa.Column("group_no", sa.Integer),
        sa.Column("group_distance", sa.Integer),
        sa.Column("suggestion", sa.Text),
    )
    op.create_index("ix_review_items_group", "review_items", ["exhibit_id", "group_no"])
    op.create_table(
        "review_grades",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("exhibit_id", _BIG_ID, sa.ForeignKey("exhibits.id"), nullable=False),
        sa.Column("item_no", sa.Integer, nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("examiner", sa.String(200), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
    )
    op.create_index("ix_review_grades_item", "review_grades", ["exhibit_id", "item_no"])
    op.create_table(
        "case_review_schemes",
        sa.Column("case_id", _BIG_ID, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("scheme", sa.String(20), nullable=False),
    )
    op.create_table(
        "review_reveal_tickets",
        sa.Column("ticket_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", _BIG_ID, nullable=False),
        sa.Column("exhibit_id", _BIG_ID, nullable=False),
        sa.Column("item_no", sa.Integer, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False),
    )
    op.create_table(
        "review_publications",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", _BIG_ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", _UTC, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", _UTC),
        sa.Column("list_versions", sa.Text, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
    )
    op.create_index("ix_review_publications_case_id", "review_publications", ["case_id"])


def downgrade() -> None:
    for table in (
        "review_publications",
        "review_reveal_tickets",
        "case_review_schemes",
        "review_grades",
        "review_items",
    ):
        op.drop_table(table)
