"""Examiner review: items, grading schemes and keys, grades with history, groups.

Also publication of graded items to a local hash list after a second examiner confirms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from safeguard.domain.hash_lists import (
    PROJECT_VIC,
    UK_SENTENCING,
    Category,
    ListKind,
    category_for,
)


class GradingScheme(StrEnum):
    """The category scheme a case is graded in (chosen per case)."""

    UK = "uk"
    PROJECT_VIC = "project-vic"


class Outcome(StrEnum):
    """What a grade means for the hash lists."""

    KNOWN_BAD = "known-bad"
    NOT_INDECENT = "not-indecent"
    IGNORABLE = "ignorable"


@dataclass(frozen=True, slots=True)
class GradeOption:
    """One key of a scheme: the key pressed, the code stored, its category and outcome."""

    key: str
    code: str
    label: str
    outcome: Outcome
    category: Category


def _uk() -> tuple[GradeOption, ...]:
    bad = [
        GradeOption(
            str(n),
            code,
            category_for(UK_SENTENCING, code).label,
            Outcome.KNOWN_BAD,
            category_for(UK_SENTENCING, code),
        )
        for n, code in ((1, "A"), (2, "B"), (3, "C"))
    ]
    none = category_for(UK_SENTENCING, None)
    return (
        *bad,
        GradeOption("4", "NI", "Not indecent", Outcome.NOT_INDECENT, none),
        GradeOption("5", "IG", "Ignorable", Outcome.IGNORABLE, none),
    )


def _vic() -> tuple[GradeOption, ...]:
    options = []
    for code in "01234":
        category = category_for(PROJECT_VIC, code)
        # Project VIC 0 (non-pertinent) is the scheme's "not indecent"; 4 (comparison) is
        # ignorable for the lists; 1-3 are known-bad.
        outcome = (
            Outcome.NOT_INDECENT
            if code == "0"
            else Outcome.IGNORABLE
            if code == "4"
            else Outcome.KNOWN_BAD
        )
        options.append(GradeOption(code, code, category.label, outcome, category))
    return tuple(options)


SCHEME_OPTIONS: Mapping[GradingScheme, tuple[GradeOption, ...]] = {
    GradingScheme.UK: _uk(),
    GradingScheme.PROJECT_VIC: _vic(),
}


def option_for_key(scheme: GradingScheme, key: str) -> GradeOption | None:
    """The grade a key gives in `scheme`, or None for a key that grades nothing."""
    return next((o for o in SCHEME_OPTIONS[scheme] if o.key == key), None)


def option_for_code(scheme: GradingScheme, code: str) -> GradeOption | None:
    """The grade stored under `code` in `scheme`, or None."""
    return next((o for o in SCHEME_OPTIONS[scheme] if o.code == code), None)


def option_for_category(scheme: GradingScheme, category: Category) -> GradeOption | None:
    """The known-bad grade of `scheme` that carries `category`, or None (for imports)."""
    return next(
        (
            o
            for o in SCHEME_OPTIONS[scheme]
            if o.outcome is Outcome.KNOWN_BAD and o.category == category
        ),
        None,
    )


def list_kind_of(outcome: Outcome) -> ListKind | None:
    """The kind of list a graded item goes to: known-bad, known-good, or none (ignorable)."""
    return {Outcome.KNOWN_BAD: ListKind.KNOWN_BAD, Outcome.NOT_INDECENT: ListKind.KNOWN_GOOD}.get(
        outcome
    )


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A list entry an item matched perceptually: shown as a suggestion, never as a grade."""

    list_name: str
    entry_id: str
    distance: int
    category: Category


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One picture or video of an exhibit that a person must grade.

    Attributes:
        exhibit_id: the exhibit.
        item_no: position in the exhibit's review (1-based, stable; used in addresses).
        path: the file's path inside the exhibit.
        is_video: True for a video (shown as a contact sheet of frames).
        md5, sha1, sha256, pdq: the file's hashes as triage recorded them.
        size: bytes.
        group_no: the near-duplicate group, or None when the item stands alone.
        group_distance: PDQ distance to the group's first member (0 for that member).
        suggestion: the list entry it matched perceptually, if any.
    """

    exhibit_id: int
    item_no: int
    path: str
    is_video: bool
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    size: int | None = None
    group_no: int | None = None
    group_distance: int | None = None
    suggestion: Suggestion | None = None


@dataclass(frozen=True, slots=True)
class Grade:
    """An examiner's grade of one item at one time; later grades supersede, all are kept."""

    exhibit_id: int
    item_no: int
    scheme: GradingScheme
    code: str
    examiner: str
    at: datetime
    source: str = "grid"

    @property
    def option(self) -> GradeOption:
        """The scheme's option for this grade's code."""
        found = option_for_code(self.scheme, self.code)
        if found is None:
            raise ValueError(f"{self.code!r} is not a code of {self.scheme}")
        return found


class PublicationState(StrEnum):
    """Where a request to publish graded items stands."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Publication:
    """A request to publish a case's graded items, and its confirmation by a second examiner.

    Attributes:
        publication_id: the store's id.
        case_id: the case whose grades are published.
        requested_by, requested_at: the first examiner.
        state: pending until a different examiner confirms (published) or rejects it.
        decided_by, decided_at: the second examiner.
        list_versions: ``name=version`` of each list written, once published.
        entries: how many entries were published.
    """

    publication_id: int
    case_id: int
    requested_by: str
    requested_at: datetime
    state: PublicationState = PublicationState.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    list_versions: str = ""
    entries: int = 0
