"""The decisions half of `SqlIntelStore`: links, suppressions, assessments, overrides, audit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from safeguard.domain.errors import NotFoundError
from safeguard.domain.intel.links import Link, LinkKind, Suppression
from safeguard.domain.intel.priority import Assessment, Override
from safeguard.domain.intel.subjects import IntelAuditEvent, Subject
from safeguard.storage.sql import intel_rows as rows
from safeguard.storage.sql.tables_intel import (
    intel_assessments,
    intel_audit,
    intel_links,
    intel_overrides,
    intel_subjects,
    intel_suppressions,
)

INSERT_CHUNK = 2000

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` in slices of at most `size`."""
    return [items[start : start + size] for start in range(0, len(items), size)]


class SqlIntelDecisions:
    """Links, suppressions, assessments, overrides and the audit log on SQLAlchemy Core."""

    _engine: Engine

    @staticmethod
    def _subject(conn: Connection, subject_id: int) -> Subject:
        row = (
            conn.execute(select(intel_subjects).where(intel_subjects.c.id == subject_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError(f"no subject with id {subject_id}")
        return rows.subject_of(row)

    # --- links ----------------------------------------------------------------------------

    def replace_computed_links(self, links: Sequence[Link]) -> None:
        """Replace every computed link; analyst links stay."""
        with self._engine.begin() as conn:
            conn.execute(delete(intel_links).where(intel_links.c.kind != LinkKind.ANALYST.value))
            for chunk in chunks(links, INSERT_CHUNK):
                conn.execute(insert(intel_links), [rows.link_row(link) for link in chunk])

    def add_link(self, link: Link) -> Link:
        """Store an analyst link."""
        with self._engine.begin() as conn:
            self._subject(conn, link.subject_a)
            self._subject(conn, link.subject_b)
            made = conn.execute(
                insert(intel_links).values(rows.link_row(link))
            ).inserted_primary_key
            assert made is not None
            return replace(link, link_id=made[0])

    def remove_link(self, link_id: int) -> Link:
        """Remove an analyst link and return it."""
        with self._engine.begin() as conn:
            row = (
                conn.execute(
                    select(intel_links).where(
                        intel_links.c.id == link_id, intel_links.c.kind == LinkKind.ANALYST.value
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"no analyst link with id {link_id}")
            conn.execute(delete(intel_links).where(intel_links.c.id == link_id))
            return rows.link_of(row)

    def links(self, subject_id: int | None = None) -> list[Link]:
        """Links (of one subject), in id order."""
        query = select(intel_links).order_by(intel_links.c.id)
        if subject_id is not None:
            query = query.where(
                or_(intel_links.c.subject_a == subject_id, intel_links.c.subject_b == subject_id)
            )
        with self._engine.connect() as conn:
            return [rows.link_of(row) for row in conn.execute(query).mappings()]

    def add_suppression(self, suppression: Suppression) -> Suppression:
        """Record that two subjects are not to be linked."""
        with self._engine.begin() as conn:
            made = conn.execute(
                insert(intel_suppressions).values(
                    subject_a=suppression.subject_a,
                    subject_b=suppression.subject_b,
                    actor=suppression.by,
                    at=suppression.at,
                    reason=suppression.reason,
                )
            ).inserted_primary_key
            assert made is not None
            return replace(suppression, suppression_id=made[0])

    def lift_suppression(self, suppression_id: int, by: str, at: datetime) -> Suppression:
        """Reverse a suppression (kept, marked lifted)."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(intel_suppressions)
                .where(
                    intel_suppressions.c.id == suppression_id,
                    intel_suppressions.c.lifted_at.is_(None),
                )
                .values(lifted_by=by, lifted_at=at)
            )
            if done.rowcount != 1:
                raise NotFoundError(f"no active suppression with id {suppression_id}")
            row = (
                conn.execute(
                    select(intel_suppressions).where(intel_suppressions.c.id == suppression_id)
                )
                .mappings()
                .one()
            )
            return rows.suppression_of(row)

    def suppressions(self, active_only: bool = True) -> list[Suppression]:
        """Suppressions, oldest first."""
        query = select(intel_suppressions).order_by(intel_suppressions.c.id)
        if active_only:
            query = query.where(intel_suppressions.c.lifted_at.is_(None))
        with self._engine.connect() as conn:
            return [rows.suppression_of(row) for row in conn.execute(query).mappings()]

    # --- priorities -----------------------------------------------------------------------

    def save_assessments(self, assessments: Sequence[Assessment]) -> None:
        """Store computed assessments, replacing each subject's previous one."""
        with self._engine.begin() as conn:
            for chunk in chunks(assessments, INSERT_CHUNK):
                conn.execute(
                    delete(intel_assessments).where(
                        intel_assessments.c.subject_id.in_([a.subject_id for a in chunk])
                    )
                )
                conn.execute(
                    insert(intel_assessments),
                    [
                        {
                            "subject_id": a.subject_id,
                            "band": a.band.value,
                            "score": a.score,
                            "contributions": rows.contributions_text(a.contributions),
                            "rules_version": a.rules_version,
                            "rules_digest": a.rules_digest,
                            "computed_at": a.computed_at,
                        }
                        for a in chunk
                    ],
                )

    def assessment(self, subject_id: int) -> Assessment | None:
        """The subject's latest computed assessment."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(intel_assessments).where(intel_assessments.c.subject_id == subject_id)
                )
                .mappings()
                .first()
            )
        return rows.assessment_of(row) if row is not None else None

    def assessments(self) -> list[Assessment]:
        """The latest assessment of every assessed subject."""
        query = select(intel_assessments).order_by(intel_assessments.c.subject_id)
        with self._engine.connect() as conn:
            return [rows.assessment_of(row) for row in conn.execute(query).mappings()]

    def add_override(self, override: Override) -> Override:
        """Store an override, clearing the subject's earlier active one."""
        with self._engine.begin() as conn:
            self._subject(conn, override.subject_id)
            conn.execute(
                update(intel_overrides)
                .where(
                    intel_overrides.c.subject_id == override.subject_id,
                    intel_overrides.c.cleared_at.is_(None),
                )
                .values(cleared_by=override.by, cleared_at=override.at)
            )
            made = conn.execute(
                insert(intel_overrides).values(
                    subject_id=override.subject_id,
                    band=override.band.value,
                    computed_band=override.computed_band.value,
                    reason=override.reason,
                    actor=override.by,
                    at=override.at,
                )
            ).inserted_primary_key
            assert made is not None
            return replace(override, override_id=made[0])

    def clear_override(self, subject_id: int, by: str, at: datetime) -> Override:
        """Withdraw the subject's active override."""
        with self._engine.begin() as conn:
            row = (
                conn.execute(
                    select(intel_overrides).where(
                        intel_overrides.c.subject_id == subject_id,
                        intel_overrides.c.cleared_at.is_(None),
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"subject {subject_id} has no active override")
            conn.execute(
                update(intel_overrides)
                .where(intel_overrides.c.id == row["id"])
                .values(cleared_by=by, cleared_at=at)
            )
            return replace(rows.override_of(row), cleared_by=by, cleared_at=at)

    def overrides(self, subject_id: int | None = None) -> list[Override]:
        """Overrides, oldest first."""
        query = select(intel_overrides).order_by(intel_overrides.c.id)
        if subject_id is not None:
            query = query.where(intel_overrides.c.subject_id == subject_id)
        with self._engine.connect() as conn:
            return [rows.override_of(row) for row in conn.execute(query).mappings()]

    # --- audit ----------------------------------------------------------------------------

    def append_audit(self, event: IntelAuditEvent) -> IntelAuditEvent:
        """Append one event and return it with its id."""
        with self._engine.begin() as conn:
            made = conn.execute(
                insert(intel_audit).values(
                    at=event.at,
                    actor=event.actor,
                    action=event.action,
                    subject_id=event.subject_id,
                    detail=json.dumps(dict(event.detail), sort_keys=True),
                )
            ).inserted_primary_key
            assert made is not None
            return replace(event, event_id=made[0])

    def audit(self, subject_id: int | None = None) -> list[IntelAuditEvent]:
        """Events in the order appended."""
        query = select(intel_audit).order_by(intel_audit.c.id)
        if subject_id is not None:
            query = query.where(intel_audit.c.subject_id == subject_id)
        with self._engine.connect() as conn:
            return [rows.audit_of(row) for row in conn.execute(query).mappings()]
