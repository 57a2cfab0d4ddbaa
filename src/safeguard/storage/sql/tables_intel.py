"""Tables of the intelligence store.

Subjects, referrals and their linkable keys, exhibits, merges, links, suppressions,
assessments, overrides and the append-only audit log.

A referral's full content is one JSON document (`body`); what is queried (its content key,
subject, times) has columns, and its linkable keys have their own table so linking reads
one narrow table instead of rebuilding every referral.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

intel_subjects = Table(
    "intel_subjects",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("label", Text, nullable=False),
    Column("origin", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("merged_into", BigId, ForeignKey("intel_subjects.id")),
    # JSON text: SubjectFacts fields.
    Column("facts", Text, nullable=False, default="{}"),
)

intel_referrals = Table(
    "intel_referrals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("content_key", String(64), nullable=False, unique=True),
    Column("source", String(30), nullable=False),
    Column("external_id", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("incident_at", UtcDateTime),
    Column("subject_id", BigId, ForeignKey("intel_subjects.id"), nullable=False, index=True),
    # JSON text: everything else of the Referral (grading, identifiers, files, ...).
    Column("body", Text, nullable=False),
)

intel_referral_keys = Table(
    "intel_referral_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("referral_id", BigId, ForeignKey("intel_referrals.id"), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("key", Text, nullable=False),
    Column("observed_at", UtcDateTime),
    Column("port", Integer),
)
Index("ix_intel_referral_keys_key", intel_referral_keys.c.key)

intel_exhibits = Table(
    "intel_exhibits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", BigId, ForeignKey("intel_subjects.id"), nullable=False, index=True),
    Column("case_number", String(200), nullable=False),
    Column("exhibit_reference", String(200), nullable=False),
    Column("files_examined", Integer, nullable=False),
    Column("known_bad_files", Integer, nullable=False),
    Column("attached_at", UtcDateTime, nullable=False),
    Column("attached_by", String(200), nullable=False),
    UniqueConstraint("case_number", "exhibit_reference", name="uq_intel_exhibits_case_exhibit"),
)

intel_merges = Table(
    "intel_merges",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("survivor_id", BigId, ForeignKey("intel_subjects.id"), nullable=False),
    Column("absorbed_id", BigId, ForeignKey("intel_subjects.id"), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("moved_referrals", Text, nullable=False, default="[]"),
    Column("moved_exhibits", Text, nullable=False, default="[]"),
    Column("undone_by", String(200)),
    Column("undone_at", UtcDateTime),
    Column("undone_reason", Text),
)

intel_links = Table(
    "intel_links",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_a", BigId, ForeignKey("intel_subjects.id"), nullable=False, index=True),
    Column("subject_b", BigId, ForeignKey("intel_subjects.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("key", Text, nullable=False),
    Column("weight", Float, nullable=False),
    Column("evidence", Text, nullable=False, default="[]"),
    Column("provenance", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)

intel_suppressions = Table(
    "intel_suppressions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_a", BigId, ForeignKey("intel_subjects.id"), nullable=False),
    Column("subject_b", BigId, ForeignKey("intel_subjects.id"), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("lifted_by", String(200)),
    Column("lifted_at", UtcDateTime),
)

intel_assessments = Table(
    "intel_assessments",
    metadata,
    Column("subject_id", BigId, ForeignKey("intel_subjects.id"), primary_key=True),
    Column("band", String(20), nullable=False),
    Column("score", Integer, nullable=False),
    Column("contributions", Text, nullable=False),
    Column("rules_version", String(100), nullable=False),
    Column("rules_digest", String(64), nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
)

intel_overrides = Table(
    "intel_overrides",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", BigId, ForeignKey("intel_subjects.id"), nullable=False, index=True),
    Column("band", String(20), nullable=False),
    Column("computed_band", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("cleared_by", String(200)),
    Column("cleared_at", UtcDateTime),
)

intel_audit = Table(
    "intel_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject_id", BigId, index=True),
    Column("detail", Text, nullable=False, default="{}"),
)
