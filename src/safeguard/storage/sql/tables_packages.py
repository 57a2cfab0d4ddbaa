"""Tables of the package store: packages, their versions, outcome reports, audit events."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from safeguard.storage.sql.schema import BigId, UtcDateTime, metadata

packages = Table(
    "packages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("subject_reference", String(200), nullable=False, index=True),
    Column("band", String(20), nullable=False),
    Column("destination", String(60), nullable=False),
    Column("routing_method", String(20), nullable=False),
    Column("routing_detail", Text, nullable=False),
    Column("routing_reason", Text, nullable=False),
    Column("routing_by", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("approved_by", String(200), nullable=False),
    Column("approved_at", UtcDateTime),
    Column("issued_at", UtcDateTime),
    Column("due_at", UtcDateTime),
    Column("acknowledged_at", UtcDateTime),
    Column("actioned_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("returned_reason", Text, nullable=False),
    Column("updated_at", UtcDateTime),
)
Index("ix_packages_destination_state", packages.c.destination, packages.c.state)

package_versions = Table(
    "package_versions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("package_id", BigId, ForeignKey("packages.id"), nullable=False),
    Column("number", Integer, nullable=False),
    # The canonical JSON, as UTF-8 text; `sha256` is over its bytes.
    Column("content", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("issued_at", UtcDateTime),
    Column("issued_html_sha256", String(64), nullable=False),
    UniqueConstraint("package_id", "number", name="uq_package_versions_package_number"),
)

package_outcomes = Table(
    "package_outcomes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("package_id", BigId, ForeignKey("packages.id"), nullable=False, index=True),
    Column("force", String(60), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("premises_searched", Integer, nullable=False),
    Column("arrests", Integer, nullable=False),
    Column("voluntary_interviews", Integer, nullable=False),
    Column("charges", Integer, nullable=False),
    # JSON text: [{"description", "case_number", "exhibit_reference"}, ...]
    Column("devices", Text, nullable=False),
    Column("children_safeguarded", Integer, nullable=False),
    Column("children_at_serious_risk", Integer, nullable=False),
    Column("safeguarding_basis", Text, nullable=False),
    Column("registered_sex_offender", Boolean),
    Column("notes", Text, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

package_events = Table(
    "package_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("package_id", BigId, ForeignKey("packages.id"), index=True),
    Column("detail", Text, nullable=False),
)
