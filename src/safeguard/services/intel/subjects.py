"""Use case: subjects for analysts: ranked lists, one subject's record, facts, merge and split.

Every change is audited with who, when and why, and is followed by relinking and
reassessing, so lists and networks never show a stale state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from safeguard.domain.errors import InputError
from safeguard.domain.intel.identifiers import Identifier
from safeguard.domain.intel.links import Link, MergeRecord
from safeguard.domain.intel.priority import Band, Override
from safeguard.domain.intel.referrals import Referral
from safeguard.domain.intel.subjects import (
    IntelAuditEvent,
    Subject,
    SubjectExhibit,
    SubjectFacts,
    SubjectOrigin,
)
from safeguard.services.intel.assessments import Priority, PriorityService
from safeguard.services.intel.clock import Clock, utc_now
from safeguard.services.intel.links import LinkService, Network
from safeguard.storage.intel_store import IntelStore


@dataclass(frozen=True, slots=True)
class RankedSubject:
    """One row of the ranked list.

    Attributes:
        subject: the subject.
        priority: its computed assessment and any override.
        referrals: how many referrals it has.
        network_id: the network it belongs to, None when linked to no one.
        network_size: members of that network (1 when none).
    """

    subject: Subject
    priority: Priority
    referrals: int
    network_id: int | None
    network_size: int


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    """Everything about one subject, for `intel show`, the API and packages.

    Attributes:
        subject: the subject.
        priority: assessment (every factor) and override.
        overrides: every override ever made, active and withdrawn.
        referrals: its referrals, oldest first.
        identifiers: its distinct identifiers (one per key, first seen first).
        exhibits: forensic exhibits attached.
        links: links to and from it.
        network: the network it is in.
        merges: merges it took part in.
        audit: audit events about it.
    """

    subject: Subject
    priority: Priority
    overrides: tuple[Override, ...]
    referrals: tuple[Referral, ...]
    identifiers: tuple[Identifier, ...]
    exhibits: tuple[SubjectExhibit, ...]
    links: tuple[Link, ...]
    network: Network
    merges: tuple[MergeRecord, ...]
    audit: tuple[IntelAuditEvent, ...]


class SubjectService:
    """Analysts' work on subjects."""

    def __init__(
        self,
        store: IntelStore,
        links: LinkService,
        priorities: PriorityService,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.links = links
        self.priorities = priorities
        self._clock = clock

    def refresh(self, subject_ids: Sequence[int] | None = None) -> None:
        """Relink everything and reassess the given subjects (all when None)."""
        self.links.relink()
        self.priorities.reassess(subject_ids)

    # --- reading --------------------------------------------------------------------------

    def ranked(
        self,
        *,
        band: Band | None = None,
        min_band: Band | None = None,
        overridden: bool | None = None,
        network_id: int | None = None,
        search: str = "",
        limit: int | None = None,
    ) -> list[RankedSubject]:
        """Active subjects, highest band in force first, then score, then id; filtered."""
        priorities = self.priorities.priorities()
        counts = self.store.referral_counts()
        membership: dict[int, tuple[int, int]] = {}
        for network in self.links.networks():
            for member in network.members:
                membership[member] = (network.network_id, len(network.members))
        rows = []
        wanted = search.casefold()
        for subject in self.store.subjects():
            priority = priorities.get(subject.subject_id, Priority(None))
            net_id, net_size = membership.get(subject.subject_id, (None, 1))
            if band is not None and priority.band is not band:
                continue
            if min_band is not None and priority.band.rank < min_band.rank:
                continue
            if overridden is not None and (priority.override is not None) != overridden:
                continue
            if network_id is not None and net_id != network_id:
                continue
            if wanted and wanted not in subject.label.casefold():
                continue
            rows.append(
                RankedSubject(
                    subject, priority, counts.get(subject.subject_id, 0), net_id, net_size
                )
            )
        rows.sort(
            key=lambda r: (
                -r.priority.band.rank,
                -(r.priority.assessment.score if r.priority.assessment else 0),
                r.subject.subject_id,
            )
        )
        return rows[:limit] if limit is not None else rows

    def record(self, subject_id: int) -> SubjectRecord:
        """Everything about one subject (a merged one too, showing where it went)."""
        subject = self.store.subject(subject_id)
        referrals = tuple(self.store.referrals_of(subject_id))
        identifiers: dict[str, Identifier] = {}
        for referral in referrals:
            for identifier in referral.identifiers:
                identifiers.setdefault(identifier.key, identifier)
        return SubjectRecord(
            subject=subject,
            priority=self.priorities.priority(subject_id),
            overrides=tuple(self.store.overrides(subject_id)),
            referrals=referrals,
            identifiers=tuple(identifiers.values()),
            exhibits=tuple(self.store.exhibits_of(subject_id)),
            links=tuple(self.store.links(subject_id)),
            network=self.links.network_of(subject_id),
            merges=tuple(self.store.merges(subject_id)),
            audit=tuple(self.store.audit(subject_id)),
        )

    # --- changing -------------------------------------------------------------------------

    def create(self, label: str, by: str, reason: str) -> Subject:
        """An analyst opens a subject (e.g. for a suspect known before any referral)."""
        if not label.strip() or not reason.strip():
            raise InputError("a new subject needs a label and a reason")
        now = self._clock()
        [subject] = self.store.create_subjects(
            [Subject(label.strip(), SubjectOrigin.ANALYST, now, by)]
        )
        self._audit(by, "subject.created", subject.subject_id, {"reason": reason})
        self.priorities.reassess([subject.subject_id])
        return subject

    def record_facts(self, subject_id: int, by: str, **changes: object) -> Subject:
        """Record analyst facts (fields of `SubjectFacts`), then reassess; audited.

        Raises:
            InputError: an unknown fact name.
        """
        subject = self.store.subject(subject_id)
        known = set(SubjectFacts.__dataclass_fields__) - {"recorded_by", "recorded_at"}
        unknown = set(changes) - known
        if unknown:
            raise InputError(f"unknown facts {sorted(unknown)} (known: {sorted(known)})")
        now = self._clock()
        facts = replace(subject.facts, **changes, recorded_by=by, recorded_at=now)  # type: ignore[arg-type]
        updated = self.store.update_facts(subject_id, facts)
        self._audit(
            by, "subject.facts_recorded", subject_id, {k: str(v) for k, v in changes.items()}
        )
        self.priorities.reassess([subject_id])
        return updated

    def attach_exhibit(self, exhibit: SubjectExhibit) -> SubjectExhibit:
        """Attach a forensic exhibit's counts to a subject, then reassess; audited."""
        attached = self.store.attach_exhibit(exhibit)
        self._audit(
            exhibit.attached_by,
            "exhibit.attached",
            exhibit.subject_id,
            {
                "case": exhibit.case_number,
                "exhibit": exhibit.exhibit_reference,
                "known_bad_files": str(exhibit.known_bad_files),
            },
        )
        self.priorities.reassess([exhibit.subject_id])
        return attached

    def merge(self, survivor_id: int, absorbed_id: int, by: str, reason: str) -> MergeRecord:
        """Merge `absorbed_id` into `survivor_id`, keeping what is needed to undo it.

        Raises:
            InputError: no reason.
            StorageError: the same subject, or one already merged.
        """
        if not reason.strip():
            raise InputError("merging subjects needs a reason")
        record = self.store.merge_subjects(
            MergeRecord(survivor_id, absorbed_id, by, self._clock(), reason)
        )
        detail = {
            "merge_id": str(record.merge_id),
            "survivor": str(survivor_id),
            "absorbed": str(absorbed_id),
            "referrals_moved": str(len(record.moved_referrals)),
            "reason": reason,
        }
        for subject_id in (survivor_id, absorbed_id):
            self._audit(by, "subjects.merged", subject_id, detail, record.at)
        self.refresh([survivor_id, absorbed_id])
        return record

    def split(self, merge_id: int, by: str, reason: str) -> MergeRecord:
        """Undo a merge exactly: the absorbed subject and everything it had come back.

        Raises:
            InputError: no reason.
            NotFoundError: no such merge.
            StorageError: already split, or a later merge of these subjects is in place.
        """
        if not reason.strip():
            raise InputError("splitting subjects needs a reason")
        record = self.store.undo_merge(merge_id, by, self._clock(), reason)
        detail = {
            "merge_id": str(merge_id),
            "survivor": str(record.survivor_id),
            "absorbed": str(record.absorbed_id),
            "reason": reason,
        }
        for subject_id in (record.survivor_id, record.absorbed_id):
            self._audit(by, "subjects.split", subject_id, detail, record.undone_at)
        self.refresh([record.survivor_id, record.absorbed_id])
        return record

    def _audit(
        self,
        by: str,
        action: str,
        subject_id: int,
        detail: dict[str, str],
        at: datetime | None = None,
    ) -> None:
        self.store.append_audit(
            IntelAuditEvent(at or self._clock(), by, action, subject_id, detail)
        )
