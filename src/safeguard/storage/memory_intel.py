"""An in-memory `IntelStore` for unit tests and throwaway runs; same contract as the SQL one."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.intel.links import (
    KeyObservation,
    Link,
    LinkKind,
    MergeRecord,
    Suppression,
)
from safeguard.domain.intel.priority import Assessment, Override
from safeguard.domain.intel.referrals import Referral, linkable_keys
from safeguard.domain.intel.subjects import (
    IntelAuditEvent,
    Subject,
    SubjectExhibit,
    SubjectFacts,
)
from safeguard.storage.intel_store import check_undoable


class MemoryIntelStore:
    """Dictionaries behind a lock; nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._referrals: dict[int, Referral] = {}
        self._by_key: dict[str, int] = {}
        self._subjects: dict[int, Subject] = {}
        self._exhibits: dict[int, SubjectExhibit] = {}
        self._merges: dict[int, MergeRecord] = {}
        self._links: dict[int, Link] = {}
        self._next_link = 1
        self._suppressions: dict[int, Suppression] = {}
        self._assessments: dict[int, Assessment] = {}
        self._overrides: dict[int, Override] = {}
        self._audit: list[IntelAuditEvent] = []

    # --- referrals ------------------------------------------------------------------------

    def add_referrals(self, referrals: Sequence[Referral]) -> list[tuple[Referral, bool]]:
        """Store referrals, idempotent on content key."""
        with self._lock:
            out: list[tuple[Referral, bool]] = []
            for referral in referrals:
                existing = self._by_key.get(referral.content_key)
                if existing is not None:
                    out.append((self._referrals[existing], False))
                    continue
                if referral.subject_id is None or referral.subject_id not in self._subjects:
                    raise StorageError("a referral must be attached to a stored subject")
                stored = replace(referral, referral_id=len(self._referrals) + 1)
                self._referrals[stored.referral_id] = stored
                self._by_key[stored.content_key] = stored.referral_id
                out.append((stored, True))
            return out

    def referral(self, referral_id: int) -> Referral:
        """The referral with this id."""
        try:
            return self._referrals[referral_id]
        except KeyError:
            raise NotFoundError(f"no referral with id {referral_id}") from None

    def referral_by_key(self, content_key: str) -> Referral | None:
        """The referral with this content key, if stored."""
        found = self._by_key.get(content_key)
        return None if found is None else self._referrals[found]

    def referrals_by_keys(self, content_keys: Iterable[str]) -> dict[str, Referral]:
        """The stored referrals with these content keys, by key."""
        return {k: self._referrals[self._by_key[k]] for k in set(content_keys) if k in self._by_key}

    def referrals_of(self, subject_id: int) -> list[Referral]:
        """The subject's referrals, oldest incident first."""
        self.subject(subject_id)
        mine = [r for r in self._referrals.values() if r.subject_id == subject_id]
        return sorted(mine, key=lambda r: (r.when, r.referral_id))

    def all_referrals(self) -> Iterator[Referral]:
        """Every referral, by id."""
        yield from list(self._referrals.values())

    def referral_count(self) -> int:
        """Number of referrals stored."""
        return len(self._referrals)

    def referral_counts(self) -> dict[int, int]:
        """Number of referrals per subject that has any."""
        counts: dict[int, int] = {}
        for referral in self._referrals.values():
            assert referral.subject_id is not None
            counts[referral.subject_id] = counts.get(referral.subject_id, 0) + 1
        return counts

    def known_content_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are stored content keys."""
        return {k for k in keys if k in self._by_key}

    def subjects_by_keys(self, keys: Iterable[str]) -> dict[str, int]:
        """For identifier keys on stored referrals, the smallest active subject holding each."""
        wanted = set(keys)
        found: dict[str, int] = {}
        with self._lock:
            for referral in self._referrals.values():
                subject_id = referral.subject_id
                if subject_id is None or not self._subjects[subject_id].active:
                    continue
                for identifier in referral.identifiers:
                    key = identifier.key
                    if key in wanted and (key not in found or subject_id < found[key]):
                        found[key] = subject_id
        return found

    def key_observations(self) -> Iterator[KeyObservation]:
        """Every linkable key of every referral, with the referral's subject."""
        for referral in list(self._referrals.values()):
            assert referral.subject_id is not None
            for kind, key, at, port in linkable_keys(referral):
                yield KeyObservation(referral.referral_id, referral.subject_id, kind, key, at, port)

    # --- subjects -------------------------------------------------------------------------

    def create_subjects(self, subjects: Sequence[Subject]) -> list[Subject]:
        """Store new subjects; returns them with their ids."""
        with self._lock:
            stored = []
            for subject in subjects:
                made = replace(subject, subject_id=len(self._subjects) + 1)
                self._subjects[made.subject_id] = made
                stored.append(made)
            return stored

    def subject(self, subject_id: int) -> Subject:
        """The subject with this id (merged ones too)."""
        try:
            return self._subjects[subject_id]
        except KeyError:
            raise NotFoundError(f"no subject with id {subject_id}") from None

    def subjects(self, include_merged: bool = False) -> list[Subject]:
        """Subjects by id; merged ones only when asked."""
        return [s for s in self._subjects.values() if include_merged or s.active]

    def update_facts(self, subject_id: int, facts: SubjectFacts) -> Subject:
        """Replace the analyst-recorded facts of a subject."""
        with self._lock:
            updated = replace(self.subject(subject_id), facts=facts)
            self._subjects[subject_id] = updated
            return updated

    def attach_exhibit(self, exhibit: SubjectExhibit) -> SubjectExhibit:
        """Attach an exhibit; the same case and exhibit again updates it."""
        with self._lock:
            self.subject(exhibit.subject_id)
            for existing in self._exhibits.values():
                if (existing.case_number, existing.exhibit_reference) == (
                    exhibit.case_number,
                    exhibit.exhibit_reference,
                ):
                    updated = replace(exhibit, attachment_id=existing.attachment_id)
                    self._exhibits[existing.attachment_id] = updated
                    return updated
            made = replace(exhibit, attachment_id=len(self._exhibits) + 1)
            self._exhibits[made.attachment_id] = made
            return made

    def exhibits_of(self, subject_id: int) -> list[SubjectExhibit]:
        """The subject's attached exhibits, in the order attached."""
        return [e for e in self._exhibits.values() if e.subject_id == subject_id]

    def all_exhibits(self) -> list[SubjectExhibit]:
        """Every attached exhibit, in the order attached."""
        return list(self._exhibits.values())

    # --- merges ---------------------------------------------------------------------------

    def merge_subjects(self, record: MergeRecord) -> MergeRecord:
        """Move the absorbed subject's referrals and exhibits to the survivor, atomically."""
        with self._lock:
            survivor = self.subject(record.survivor_id)
            absorbed = self.subject(record.absorbed_id)
            if survivor.subject_id == absorbed.subject_id:
                raise StorageError("a subject cannot be merged into itself")
            if not survivor.active or not absorbed.active:
                raise StorageError("only active (unmerged) subjects can be merged")
            moved = tuple(r.referral_id for r in self.referrals_of(absorbed.subject_id))
            exhibits = tuple(e.attachment_id for e in self.exhibits_of(absorbed.subject_id))
            for referral_id in moved:
                self._referrals[referral_id] = replace(
                    self._referrals[referral_id], subject_id=survivor.subject_id
                )
            for attachment_id in exhibits:
                self._exhibits[attachment_id] = replace(
                    self._exhibits[attachment_id], subject_id=survivor.subject_id
                )
            self._subjects[absorbed.subject_id] = replace(absorbed, merged_into=survivor.subject_id)
            stored = replace(
                record,
                moved_referrals=moved,
                moved_exhibits=exhibits,
                merge_id=len(self._merges) + 1,
            )
            self._merges[stored.merge_id] = stored
            return stored

    def undo_merge(self, merge_id: int, by: str, at: datetime, reason: str) -> MergeRecord:
        """Move back exactly what the merge moved and mark it undone, atomically."""
        with self._lock:
            record = self._merge(merge_id)
            check_undoable(record, self._merges.values())
            for referral_id in record.moved_referrals:
                self._referrals[referral_id] = replace(
                    self._referrals[referral_id], subject_id=record.absorbed_id
                )
            for attachment_id in record.moved_exhibits:
                self._exhibits[attachment_id] = replace(
                    self._exhibits[attachment_id], subject_id=record.absorbed_id
                )
            absorbed = self._subjects[record.absorbed_id]
            self._subjects[record.absorbed_id] = replace(absorbed, merged_into=None)
            undone = replace(record, undone_by=by, undone_at=at, undone_reason=reason)
            self._merges[merge_id] = undone
            return undone

    def _merge(self, merge_id: int) -> MergeRecord:
        try:
            return self._merges[merge_id]
        except KeyError:
            raise NotFoundError(f"no merge with id {merge_id}") from None

    def merges(self, subject_id: int | None = None) -> list[MergeRecord]:
        """Merge records, oldest first."""
        return [
            m
            for m in self._merges.values()
            if subject_id is None or subject_id in (m.survivor_id, m.absorbed_id)
        ]

    # --- links ----------------------------------------------------------------------------

    def replace_computed_links(self, links: Sequence[Link]) -> None:
        """Replace every computed link; analyst links stay."""
        with self._lock:
            self._links = {
                i: link for i, link in self._links.items() if link.kind is LinkKind.ANALYST
            }
            for link in links:
                self._store_link(link)

    def _store_link(self, link: Link) -> Link:
        stored = replace(link, link_id=self._next_link)
        self._next_link += 1
        self._links[stored.link_id] = stored
        return stored

    def add_link(self, link: Link) -> Link:
        """Store an analyst link."""
        with self._lock:
            self.subject(link.subject_a)
            self.subject(link.subject_b)
            return self._store_link(link)

    def remove_link(self, link_id: int) -> Link:
        """Remove an analyst link and return it."""
        with self._lock:
            link = self._links.get(link_id)
            if link is None or link.kind is not LinkKind.ANALYST:
                raise NotFoundError(f"no analyst link with id {link_id}")
            del self._links[link_id]
            return link

    def links(self, subject_id: int | None = None) -> list[Link]:
        """Links (of one subject), in id order."""
        return [
            link
            for _, link in sorted(self._links.items())
            if subject_id is None or subject_id in link.pair
        ]

    def add_suppression(self, suppression: Suppression) -> Suppression:
        """Record that two subjects are not to be linked."""
        with self._lock:
            stored = replace(suppression, suppression_id=len(self._suppressions) + 1)
            self._suppressions[stored.suppression_id] = stored
            return stored

    def lift_suppression(self, suppression_id: int, by: str, at: datetime) -> Suppression:
        """Reverse a suppression (kept, marked lifted)."""
        with self._lock:
            found = self._suppressions.get(suppression_id)
            if found is None or not found.active:
                raise NotFoundError(f"no active suppression with id {suppression_id}")
            lifted = replace(found, lifted_by=by, lifted_at=at)
            self._suppressions[suppression_id] = lifted
            return lifted

    def suppressions(self, active_only: bool = True) -> list[Suppression]:
        """Suppressions, oldest first."""
        return [s for s in self._suppressions.values() if s.active or not active_only]

    # --- priorities -----------------------------------------------------------------------

    def save_assessments(self, assessments: Sequence[Assessment]) -> None:
        """Store computed assessments, replacing each subject's previous one."""
        with self._lock:
            for assessment in assessments:
                self._assessments[assessment.subject_id] = assessment

    def assessment(self, subject_id: int) -> Assessment | None:
        """The subject's latest computed assessment."""
        return self._assessments.get(subject_id)

    def assessments(self) -> list[Assessment]:
        """The latest assessment of every assessed subject."""
        return [self._assessments[k] for k in sorted(self._assessments)]

    def add_override(self, override: Override) -> Override:
        """Store an override, clearing the subject's earlier active one."""
        with self._lock:
            self.subject(override.subject_id)
            for key, existing in self._overrides.items():
                if existing.subject_id == override.subject_id and existing.active:
                    self._overrides[key] = replace(
                        existing, cleared_by=override.by, cleared_at=override.at
                    )
            stored = replace(override, override_id=len(self._overrides) + 1)
            self._overrides[stored.override_id] = stored
            return stored

    def clear_override(self, subject_id: int, by: str, at: datetime) -> Override:
        """Withdraw the subject's active override."""
        with self._lock:
            for key, existing in self._overrides.items():
                if existing.subject_id == subject_id and existing.active:
                    cleared = replace(existing, cleared_by=by, cleared_at=at)
                    self._overrides[key] = cleared
                    return cleared
            raise NotFoundError(f"subject {subject_id} has no active override")

    def overrides(self, subject_id: int | None = None) -> list[Override]:
        """Overrides, oldest first."""
        return [
            o for o in self._overrides.values() if subject_id is None or o.subject_id == subject_id
        ]

    # --- audit ----------------------------------------------------------------------------

    def append_audit(self, event: IntelAuditEvent) -> IntelAuditEvent:
        """Append one event and return it with its id."""
        with self._lock:
            stored = replace(event, event_id=len(self._audit) + 1)
            self._audit.append(stored)
            return stored

    def audit(self, subject_id: int | None = None) -> list[IntelAuditEvent]:
        """Events in the order appended."""
        return [e for e in self._audit if subject_id is None or e.subject_id == subject_id]
