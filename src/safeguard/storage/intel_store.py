"""The port for intelligence data: referrals, subjects, links, merges, priorities, audit.

Referrals are idempotent on their content key: adding one whose key is stored returns the
stored one and changes nothing. Merges and their undoing are single atomic operations.
The audit log has no update or delete operation, on purpose. Lookups of missing objects
raise `NotFoundError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from safeguard.domain.errors import StorageError
from safeguard.domain.intel.links import KeyObservation, Link, MergeRecord, Suppression
from safeguard.domain.intel.priority import Assessment, Override
from safeguard.domain.intel.referrals import Referral
from safeguard.domain.intel.subjects import (
    IntelAuditEvent,
    Subject,
    SubjectExhibit,
    SubjectFacts,
)


class IntelStore(Protocol):
    """Where intelligence lives (in memory for tests, SQL for everything else)."""

    # --- referrals ------------------------------------------------------------------------

    def add_referrals(self, referrals: Sequence[Referral]) -> list[tuple[Referral, bool]]:
        """Store referrals (each with its `subject_id` set), atomically.

        Returns:
            Per referral in order: the stored referral and True, or, when its content key
            was already stored (earlier or earlier in this batch), the stored one and False.
        """
        ...

    def referral(self, referral_id: int) -> Referral:
        """The referral with this id."""
        ...

    def referral_by_key(self, content_key: str) -> Referral | None:
        """The referral with this content key, if stored."""
        ...

    def referrals_by_keys(self, content_keys: Iterable[str]) -> dict[str, Referral]:
        """The stored referrals with these content keys, by key (absent ones left out)."""
        ...

    def referrals_of(self, subject_id: int) -> list[Referral]:
        """The subject's referrals, oldest incident first."""
        ...

    def all_referrals(self) -> Iterator[Referral]:
        """Every referral, by id."""
        ...

    def referral_count(self) -> int:
        """Number of referrals stored."""
        ...

    def referral_counts(self) -> dict[int, int]:
        """Number of referrals per subject that has any."""
        ...

    def known_content_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are stored content keys."""
        ...

    def subjects_by_keys(self, keys: Iterable[str]) -> dict[str, int]:
        """For identifier keys seen on stored referrals, the (active) subject holding each.

        When referrals of several subjects carry a key, the smallest subject id is given.
        """
        ...

    def key_observations(self) -> Iterator[KeyObservation]:
        """Every linkable key of every referral, with the referral's subject."""
        ...

    # --- subjects -------------------------------------------------------------------------

    def create_subjects(self, subjects: Sequence[Subject]) -> list[Subject]:
        """Store new subjects; returns them with their ids."""
        ...

    def subject(self, subject_id: int) -> Subject:
        """The subject with this id (merged ones too)."""
        ...

    def subjects(self, include_merged: bool = False) -> list[Subject]:
        """Subjects by id; merged ones only when asked."""
        ...

    def update_facts(self, subject_id: int, facts: SubjectFacts) -> Subject:
        """Replace the analyst-recorded facts of a subject."""
        ...

    def attach_exhibit(self, exhibit: SubjectExhibit) -> SubjectExhibit:
        """Attach an exhibit to a subject (the same case and exhibit again updates it)."""
        ...

    def exhibits_of(self, subject_id: int) -> list[SubjectExhibit]:
        """The subject's attached exhibits, in the order attached."""
        ...

    def all_exhibits(self) -> list[SubjectExhibit]:
        """Every attached exhibit, in the order attached."""
        ...

    # --- merges ---------------------------------------------------------------------------

    def merge_subjects(self, record: MergeRecord) -> MergeRecord:
        """Merge two subjects atomically, recording exactly what moved.

        The absorbed subject's referrals and exhibits move to the survivor, the absorbed
        subject is marked merged, and the record is stored with the moved ids filled in.
        """
        ...

    def undo_merge(self, merge_id: int, by: str, at: datetime, reason: str) -> MergeRecord:
        """Undo a merge atomically: move back exactly what it moved, unmark the absorbed one.

        The record is kept, marked undone.

        Raises:
            NotFoundError: no such merge.
            StorageError: the merge was already undone, or a later merge still active
                involves one of its subjects (undo that first).
        """
        ...

    def merges(self, subject_id: int | None = None) -> list[MergeRecord]:
        """Merge records (of one subject, as survivor or absorbed), oldest first."""
        ...

    # --- links ----------------------------------------------------------------------------

    def replace_computed_links(self, links: Sequence[Link]) -> None:
        """Replace every computed (identifier and image) link; analyst links stay."""
        ...

    def add_link(self, link: Link) -> Link:
        """Store an analyst link."""
        ...

    def remove_link(self, link_id: int) -> Link:
        """Remove an analyst link and return it.

        Raises:
            NotFoundError: no such analyst link.
        """
        ...

    def links(self, subject_id: int | None = None) -> list[Link]:
        """Links (of one subject), computed and analyst, in id order."""
        ...

    def add_suppression(self, suppression: Suppression) -> Suppression:
        """Record that two subjects are not to be linked."""
        ...

    def lift_suppression(self, suppression_id: int, by: str, at: datetime) -> Suppression:
        """Reverse a suppression (kept, marked lifted)."""
        ...

    def suppressions(self, active_only: bool = True) -> list[Suppression]:
        """Suppressions, oldest first."""
        ...

    # --- priorities -----------------------------------------------------------------------

    def save_assessments(self, assessments: Sequence[Assessment]) -> None:
        """Store computed assessments, replacing each subject's previous one."""
        ...

    def assessment(self, subject_id: int) -> Assessment | None:
        """The subject's latest computed assessment."""
        ...

    def assessments(self) -> list[Assessment]:
        """The latest assessment of every assessed subject."""
        ...

    def add_override(self, override: Override) -> Override:
        """Store an override; an earlier active one for the subject is cleared by it."""
        ...

    def clear_override(self, subject_id: int, by: str, at: datetime) -> Override:
        """Withdraw the subject's active override.

        Raises:
            NotFoundError: the subject has no active override.
        """
        ...

    def overrides(self, subject_id: int | None = None) -> list[Override]:
        """Overrides, active and withdrawn, oldest first."""
        ...

    # --- audit ----------------------------------------------------------------------------

    def append_audit(self, event: IntelAuditEvent) -> IntelAuditEvent:
        """Append one event and return it with its id."""
        ...

    def audit(self, subject_id: int | None = None) -> list[IntelAuditEvent]:
        """Events in the order appended; only the subject's when given."""
        ...


def check_undoable(record: MergeRecord, all_merges: Iterable[MergeRecord]) -> None:
    """Refuse to undo a merge already undone, or one a later active merge builds on."""
    if not record.active:
        raise StorageError(f"merge {record.merge_id} was already split")
    involved = {record.survivor_id, record.absorbed_id}
    for later in all_merges:
        if (
            later.merge_id > record.merge_id
            and later.active
            and involved & {later.survivor_id, later.absorbed_id}
        ):
            raise StorageError(
                f"merge {later.merge_id} (subject {later.absorbed_id} into "
                f"{later.survivor_id}) came later and is still in place: split it first"
            )
