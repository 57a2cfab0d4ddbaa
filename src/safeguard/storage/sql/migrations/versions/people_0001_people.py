"""People and access: users, sessions, case access lists, user preferences.

Revision ID: people_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "people_0001"
down_revision = None
branch_labels = ("people",)
# case_access refers to cases.
depends_on = "cases_0001"

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(500), nullable=False),
        sa.Column("force_code", sa.String(20)),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", _UTC),
        sa.Column("created_at", _UTC, nullable=False),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "user_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", _BIG_ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(100), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("last_seen_at", _UTC, nullable=False),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_table(
        "case_access",
        sa.Column("case_id", _BIG_ID, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("user_id", _BIG_ID, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", _UTC, nullable=False),
    )
    op.create_index("ix_case_access_user_id", "case_access", ["user_id"])
    op.create_table(
        "user_preferences",
        sa.Column("user_id", _BIG_ID, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("user_preferences", "case_access", "user_sessions", "users"):
        op.drop_table(table)
