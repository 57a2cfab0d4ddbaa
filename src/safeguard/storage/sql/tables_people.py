"""Tables of people and access: users, sessions, case access lists, user preferences."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    # Comma-separated `Role` values; a handful per user, never queried by content.
    Column("roles", String(500), nullable=False),
    Column("force_code", String(20)),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    # SHA-256 of the cookie's session id: the id itself is never stored.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
)

case_access = Table(
    "case_access",
    metadata,
    Column("case_id", BigId, ForeignKey("cases.id"), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True, index=True),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
)

user_preferences = Table(
    "user_preferences",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
