"""`IntelStore` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.intel.links import (
    KeyObservation,
    MergeRecord,
)
from safeguard.domain.intel.referrals import Referral, linkable_keys
from safeguard.domain.intel.subjects import (
    Subject,
    SubjectExhibit,
    SubjectFacts,
)
from safeguard.storage.intel_store import check_undoable
from safeguard.storage.sql import intel_rows as rows
from safeguard.storage.sql.intel_decisions import INSERT_CHUNK, SqlIntelDecisions, chunks
from safeguard.storage.sql.tables_intel import (
    intel_exhibits,
    intel_merges,
    intel_referral_keys,
    intel_referrals,
    intel_subjects,
)

_CHUNK = 500


class SqlIntelStore(SqlIntelDecisions):
    """Intelligence data in the shared database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- referrals ------------------------------------------------------------------------

    def add_referrals(self, referrals: Sequence[Referral]) -> list[tuple[Referral, bool]]:
        """Store referrals, idempotent on content key, atomically."""
        try:
            return self._add_referrals(referrals)
        except IntegrityError:
            # Another writer stored one of the same referrals meanwhile: look again.
            return self._add_referrals(referrals)

    def _add_referrals(self, referrals: Sequence[Referral]) -> list[tuple[Referral, bool]]:
        with self._engine.begin() as conn:
            stored = self._by_content_keys(conn, [r.content_key for r in referrals])
            new: list[Referral] = []
            pending: set[str] = set()
            for referral in referrals:
                if referral.content_key in stored or referral.content_key in pending:
                    continue
                if referral.subject_id is None:
                    raise StorageError("a referral must be attached to a stored subject")
                pending.add(referral.content_key)
                new.append(referral)
            made: dict[str, Referral] = {}
            for chunk in chunks(new, INSERT_CHUNK):
                ids = conn.execute(
                    insert(intel_referrals).returning(
                        intel_referrals.c.id, sort_by_parameter_order=True
                    ),
                    [
                        {
                            "content_key": r.content_key,
                            "source": r.source.value,
                            "external_id": r.external_id,
                            "received_at": r.received_at,
                            "incident_at": r.incident_at,
                            "subject_id": r.subject_id,
                            "body": rows.referral_body(r),
                        }
                        for r in chunk
                    ],
                ).scalars()
                key_rows: list[dict[str, Any]] = []
                for referral, referral_id in zip(chunk, ids, strict=True):
                    made[referral.content_key] = replace(referral, referral_id=referral_id)
                    key_rows.extend(
                        {
                            "referral_id": referral_id,
                            "kind": kind,
                            "key": key,
                            "observed_at": at,
                            "port": port,
                        }
                        for kind, key, at, port in linkable_keys(referral)
                    )
                if key_rows:
                    conn.execute(insert(intel_referral_keys), key_rows)
        out: list[tuple[Referral, bool]] = []
        seen: set[str] = set()
        for referral in referrals:
            key = referral.content_key
            if key in made and key not in seen:
                seen.add(key)
                out.append((made[key], True))
            else:
                out.append((made.get(key) or stored[key], False))
        return out

    @staticmethod
    def _by_content_keys(conn: Connection, keys: Sequence[str]) -> dict[str, Referral]:
        found: dict[str, Referral] = {}
        for chunk in chunks(sorted(set(keys)), _CHUNK):
            for row in conn.execute(
                select(intel_referrals).where(intel_referrals.c.content_key.in_(chunk))
            ).mappings():
                found[row["content_key"]] = rows.referral_of(row)
        return found

    def referral(self, referral_id: int) -> Referral:
        """The referral with this id."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(intel_referrals).where(intel_referrals.c.id == referral_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"no referral with id {referral_id}")
        return rows.referral_of(row)

    def referral_by_key(self, content_key: str) -> Referral | None:
        """The referral with this content key, if stored."""
        with self._engine.connect() as conn:
            return self._by_content_keys(conn, [content_key]).get(content_key)

    def referrals_by_keys(self, content_keys: Iterable[str]) -> dict[str, Referral]:
        """The stored referrals with these content keys, by key."""
        with self._engine.connect() as conn:
            return self._by_content_keys(conn, list(content_keys))

    def referrals_of(self, subject_id: int) -> list[Referral]:
        """The subject's referrals, oldest incident first."""
        self.subject(subject_id)
        with self._engine.connect() as conn:
            found = [
                rows.referral_of(row)
                for row in conn.execute(
                    select(intel_referrals).where(intel_referrals.c.subject_id == subject_id)
                ).mappings()
            ]
        return sorted(found, key=lambda r: (r.when, r.referral_id))

    def all_referrals(self) -> Iterator[Referral]:
        """Every referral, by id."""
        query = select(intel_referrals).order_by(intel_referrals.c.id)
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=5_000).execute(query).mappings()
            for row in result:
                yield rows.referral_of(row)

    def referral_count(self) -> int:
        """Number of referrals stored."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(intel_referrals)).scalar_one())

    def referral_counts(self) -> dict[int, int]:
        """Number of referrals per subject that has any."""
        query = select(intel_referrals.c.subject_id, func.count()).group_by(
            intel_referrals.c.subject_id
        )
        with self._engine.connect() as conn:
            return {int(s): int(n) for s, n in conn.execute(query)}

    def known_content_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are stored content keys."""
        found: set[str] = set()
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(keys)), _CHUNK):
                found.update(
                    conn.execute(
                        select(intel_referrals.c.content_key).where(
                            intel_referrals.c.content_key.in_(chunk)
                        )
                    ).scalars()
                )
        return found

    def subjects_by_keys(self, keys: Iterable[str]) -> dict[str, int]:
        """For identifier keys on stored referrals, the smallest active subject holding each."""
        found: dict[str, int] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(sorted(set(keys)), _CHUNK):
                query = (
                    select(intel_referral_keys.c.key, func.min(intel_referrals.c.subject_id))
                    .join(
                        intel_referrals, intel_referrals.c.id == intel_referral_keys.c.referral_id
                    )
                    .join(intel_subjects, intel_subjects.c.id == intel_referrals.c.subject_id)
                    .where(intel_referral_keys.c.key.in_(chunk))
                    .where(intel_subjects.c.merged_into.is_(None))
                    .group_by(intel_referral_keys.c.key)
                )
                found.update({key: int(subject) for key, subject in conn.execute(query)})
        return found

    def key_observations(self) -> Iterator[KeyObservation]:
        """Every linkable key of every referral, with the referral's subject."""
        query = select(
            intel_referral_keys.c.referral_id,
            intel_referrals.c.subject_id,
            intel_referral_keys.c.kind,
            intel_referral_keys.c.key,
            intel_referral_keys.c.observed_at,
            intel_referral_keys.c.port,
        ).join(intel_referrals, intel_referrals.c.id == intel_referral_keys.c.referral_id)
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=10_000).execute(query)
            for referral_id, subject_id, kind, key, at, port in result:
                yield KeyObservation(referral_id, subject_id, kind, key, rows.aware(at), port)

    # --- subjects -------------------------------------------------------------------------

    def create_subjects(self, subjects: Sequence[Subject]) -> list[Subject]:
        """Store new subjects; returns them with their ids."""
        made: list[Subject] = []
        with self._engine.begin() as conn:
            for chunk in chunks(subjects, INSERT_CHUNK):
                ids = conn.execute(
                    insert(intel_subjects).returning(
                        intel_subjects.c.id, sort_by_parameter_order=True
                    ),
                    [
                        {
                            "label": s.label,
                            "origin": s.origin.value,
                            "created_at": s.created_at,
                            "created_by": s.created_by,
                            "merged_into": s.merged_into,
                            "facts": rows.facts_text(s.facts),
                        }
                        for s in chunk
                    ],
                ).scalars()
                made.extend(replace(s, subject_id=i) for s, i in zip(chunk, ids, strict=True))
        return made

    def subject(self, subject_id: int) -> Subject:
        """The subject with this id (merged ones too)."""
        with self._engine.connect() as conn:
            return self._subject(conn, subject_id)

    def subjects(self, include_merged: bool = False) -> list[Subject]:
        """Subjects by id; merged ones only when asked."""
        query = select(intel_subjects).order_by(intel_subjects.c.id)
        if not include_merged:
            query = query.where(intel_subjects.c.merged_into.is_(None))
        with self._engine.connect() as conn:
            return [rows.subject_of(row) for row in conn.execute(query).mappings()]

    def update_facts(self, subject_id: int, facts: SubjectFacts) -> Subject:
        """Replace the analyst-recorded facts of a subject."""
        with self._engine.begin() as conn:
            self._subject(conn, subject_id)
            conn.execute(
                update(intel_subjects)
                .where(intel_subjects.c.id == subject_id)
                .values(facts=rows.facts_text(facts))
            )
            return self._subject(conn, subject_id)

    def attach_exhibit(self, exhibit: SubjectExhibit) -> SubjectExhibit:
        """Attach an exhibit; the same case and exhibit again updates it."""
        values = {
            "subject_id": exhibit.subject_id,
            "case_number": exhibit.case_number,
            "exhibit_reference": exhibit.exhibit_reference,
            "files_examined": exhibit.files_examined,
            "known_bad_files": exhibit.known_bad_files,
            "attached_at": exhibit.attached_at,
            "attached_by": exhibit.attached_by,
        }
        with self._engine.begin() as conn:
            self._subject(conn, exhibit.subject_id)
            existing = conn.execute(
                select(intel_exhibits.c.id).where(
                    intel_exhibits.c.case_number == exhibit.case_number,
                    intel_exhibits.c.exhibit_reference == exhibit.exhibit_reference,
                )
            ).scalar()
            if existing is not None:
                conn.execute(
                    update(intel_exhibits).where(intel_exhibits.c.id == existing).values(values)
                )
                return replace(exhibit, attachment_id=existing)
            made = conn.execute(insert(intel_exhibits).values(values)).inserted_primary_key
            assert made is not None
            return replace(exhibit, attachment_id=made[0])

    def exhibits_of(self, subject_id: int) -> list[SubjectExhibit]:
        """The subject's attached exhibits, in the order attached."""
        with self._engine.connect() as conn:
            return [
                rows.exhibit_of(row)
                for row in conn.execute(
                    select(intel_exhibits)
                    .where(intel_exhibits.c.subject_id == subject_id)
                    .order_by(intel_exhibits.c.id)
                ).mappings()
            ]

    def all_exhibits(self) -> list[SubjectExhibit]:
        """Every attached exhibit, in the order attached."""
        with self._engine.connect() as conn:
            return [
                rows.exhibit_of(row)
                for row in conn.execute(
                    select(intel_exhibits).order_by(intel_exhibits.c.id)
                ).mappings()
            ]

    # --- merges ---------------------------------------------------------------------------

    def merge_subjects(self, record: MergeRecord) -> MergeRecord:
        """Move the absorbed subject's referrals and exhibits to the survivor, atomically."""
        with self._engine.begin() as conn:
            survivor = self._subject(conn, record.survivor_id)
            absorbed = self._subject(conn, record.absorbed_id)
            if survivor.subject_id == absorbed.subject_id:
                raise StorageError("a subject cannot be merged into itself")
            if not survivor.active or not absorbed.active:
                raise StorageError("only active (unmerged) subjects can be merged")
            moved = tuple(
                conn.execute(
                    select(intel_referrals.c.id)
                    .where(intel_referrals.c.subject_id == absorbed.subject_id)
                    .order_by(intel_referrals.c.id)
                ).scalars()
            )
            exhibits = tuple(
                conn.execute(
                    select(intel_exhibits.c.id)
                    .where(intel_exhibits.c.subject_id == absorbed.subject_id)
                    .order_by(intel_exhibits.c.id)
                ).scalars()
            )
            self._move(conn, moved, exhibits, survivor.subject_id)
            conn.execute(
                update(intel_subjects)
                .where(intel_subjects.c.id == absorbed.subject_id)
                .values(merged_into=survivor.subject_id)
            )
            stored = replace(record, moved_referrals=moved, moved_exhibits=exhibits)
            made = conn.execute(
                insert(intel_merges).values(
                    survivor_id=stored.survivor_id,
                    absorbed_id=stored.absorbed_id,
                    actor=stored.by,
                    at=stored.at,
                    reason=stored.reason,
                    moved_referrals=json.dumps(list(moved)),
                    moved_exhibits=json.dumps(list(exhibits)),
                )
            ).inserted_primary_key
            assert made is not None
            return replace(stored, merge_id=made[0])

    @staticmethod
    def _move(
        conn: Connection, referral_ids: Sequence[int], exhibit_ids: Sequence[int], to: int
    ) -> None:
        for chunk in chunks(referral_ids, _CHUNK):
            conn.execute(
                update(intel_referrals).where(intel_referrals.c.id.in_(chunk)).values(subject_id=to)
            )
        for chunk in chunks(exhibit_ids, _CHUNK):
            conn.execute(
                update(intel_exhibits).where(intel_exhibits.c.id.in_(chunk)).values(subject_id=to)
            )

    def undo_merge(self, merge_id: int, by: str, at: datetime, reason: str) -> MergeRecord:
        """Move back exactly what the merge moved and mark it undone, atomically."""
        with self._engine.begin() as conn:
            all_merges = [
                rows.merge_of(row)
                for row in conn.execute(select(intel_merges).order_by(intel_merges.c.id)).mappings()
            ]
            record = next((m for m in all_merges if m.merge_id == merge_id), None)
            if record is None:
                raise NotFoundError(f"no merge with id {merge_id}")
            check_undoable(record, all_merges)
            self._move(conn, record.moved_referrals, record.moved_exhibits, record.absorbed_id)
            conn.execute(
                update(intel_subjects)
                .where(intel_subjects.c.id == record.absorbed_id)
                .values(merged_into=None)
            )
            conn.execute(
                update(intel_merges)
                .where(intel_merges.c.id == merge_id)
                .values(undone_by=by, undone_at=at, undone_reason=reason)
            )
            return replace(record, undone_by=by, undone_at=at, undone_reason=reason)

    def merges(self, subject_id: int | None = None) -> list[MergeRecord]:
        """Merge records, oldest first."""
        query = select(intel_merges).order_by(intel_merges.c.id)
        if subject_id is not None:
            query = query.where(
                or_(
                    intel_merges.c.survivor_id == subject_id,
                    intel_merges.c.absorbed_id == subject_id,
                )
            )
        with self._engine.connect() as conn:
            return [rows.merge_of(row) for row in conn.execute(query).mappings()]
