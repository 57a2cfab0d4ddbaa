"""Tables of examiner review: items, grade history, schemes, reveal tickets, publications."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

review_items = Table(
    "review_items",
    metadata,
    Column("exhibit_id", BigId, ForeignKey("exhibits.id"), primary_key=True),
    Column("item_no", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("is_video", Boolean, nullable=False),
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("size", BigId),
    Column("group_no", Integer),
    Column("group_distance", Integer),
    # JSON text {"list_name", "entry_id", "distance", "scheme", "code", "label"} or NULL.
    Column("suggestion", Text),
)
Index("ix_review_items_group", review_items.c.exhibit_id, review_items.c.group_no)

review_grades = Table(
    "review_grades",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("exhibit_id", BigId, ForeignKey("exhibits.id"), nullable=False),
    Column("item_no", Integer, nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("code", String(10), nullable=False),
    Column("examiner", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("source", String(50), nullable=False),
)
Index("ix_review_grades_item", review_grades.c.exhibit_id, review_grades.c.item_no)

case_review_schemes = Table(
    "case_review_schemes",
    metadata,
    Column("case_id", BigId, ForeignKey("cases.id"), primary_key=True),
    Column("scheme", String(20), nullable=False),
)

review_reveal_tickets = Table(
    "review_reveal_tickets",
    metadata,
    # SHA-256 of the one-time ticket handed to the browser.
    Column("ticket_hash", String(64), primary_key=True),
    Column("user_id", BigId, nullable=False),
    Column("exhibit_id", BigId, nullable=False),
    Column("item_no", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used", Boolean, nullable=False),
)

review_publications = Table(
    "review_publications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False, index=True),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("state", String(20), nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", UtcDateTime),
    Column("list_versions", Text, nullable=False),
    Column("entries", Integer, nullable=False),
)
