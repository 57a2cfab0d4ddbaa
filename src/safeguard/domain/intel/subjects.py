"""Subjects: the people of interest that referrals are about, and what analysts record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SubjectOrigin(StrEnum):
    """Who made the subject: intake (from a referral's account identifiers) or an analyst."""

    INTAKE = "intake"
    ANALYST = "analyst"


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What an analyst recorded about a subject (the inputs no referral carries).

    Attributes:
        occupation: occupation or role, as recorded.
        role_with_access_to_children: the occupation or a role (teacher, care worker,
            scout leader, ...) gives access to children.
        children_in_household: number of children in the household, None when unknown.
        other_access_to_children: access through friends, family or neighbours.
        registered_sex_offender: on the sex offenders register.
        prior_sexual_convictions: number of previous sexual convictions.
        prior_other_convictions: number of other previous convictions.
        contact_offence_history: a known contact sexual offence (conviction or allegation).
        recorded_by, recorded_at: who recorded these facts and when ("" / None: never).
    """

    occupation: str = ""
    role_with_access_to_children: bool = False
    children_in_household: int | None = None
    other_access_to_children: bool = False
    registered_sex_offender: bool = False
    prior_sexual_convictions: int = 0
    prior_other_convictions: int = 0
    contact_offence_history: bool = False
    recorded_by: str = ""
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """A person of interest.

    Subjects are made by intake, from a referral's account identifiers (an email address or
    a platform account), or by an analyst; never guessed from a name.

    Attributes:
        subject_id: the store's id; 0 before stored.
        label: a short display label (an account, an address), not a claim of identity.
        origin: intake or analyst.
        created_at, created_by: when and by whom (``intake`` for intake).
        facts: what an analyst recorded.
        merged_into: when merged into another subject, that subject's id; None otherwise.
    """

    label: str
    origin: SubjectOrigin
    created_at: datetime
    created_by: str
    facts: SubjectFacts = field(default_factory=SubjectFacts)
    merged_into: int | None = None
    subject_id: int = 0

    @property
    def active(self) -> bool:
        """False once merged into another subject."""
        return self.merged_into is None


@dataclass(frozen=True, slots=True)
class SubjectExhibit:
    """A forensic case's exhibit attached to a subject, with what the scan found.

    Attributes:
        subject_id: the subject.
        case_number, exhibit_reference: the exhibit.
        files_examined: files with a result in the exhibit's scan.
        known_bad_files: files found known-bad.
        attached_at, attached_by: when and by whom it was attached.
        attachment_id: the store's id; 0 before stored.
    """

    subject_id: int
    case_number: str
    exhibit_reference: str
    files_examined: int
    known_bad_files: int
    attached_at: datetime
    attached_by: str
    attachment_id: int = 0


@dataclass(frozen=True, slots=True)
class IntelAuditEvent:
    """One line of the intelligence audit log (append-only).

    Attributes:
        at, actor, action: when, who, what (``subject.merged``, ``band.overridden``, ...).
        subject_id: the subject it concerns, if one.
        detail: small facts (ids, bands, reasons); never identifiers of listed content.
        event_id: the store's id; 0 before stored.
    """

    at: datetime
    actor: str
    action: str
    subject_id: int | None = None
    detail: Mapping[str, str] = field(default_factory=dict)
    event_id: int = 0
