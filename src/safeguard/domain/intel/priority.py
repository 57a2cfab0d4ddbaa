"""Priority bands, the factors that make them, and analysts' overrides.

A band is advice with its reasons: every factor's contribution is kept with the published
tool it comes from, and a person decides. An override keeps the computed band beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from safeguard.domain.errors import InputError


class Band(StrEnum):
    """Priority bands, lowest first (KIRAT's output levels)."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    VERY_HIGH = "Very High"

    @property
    def rank(self) -> int:
        """0 for Low up to 3 for Very High."""
        return list(Band).index(self)

    @classmethod
    def parse(cls, text: str) -> Band:
        """A band from its name in any case, with ``-``/``_`` for the space.

        Raises:
            InputError: not a band.
        """
        wanted = text.strip().replace("-", " ").replace("_", " ").casefold()
        for band in cls:
            if band.value.casefold() == wanted:
                return band
        raise InputError(f"unknown band {text!r} (bands: {', '.join(b.value for b in cls)})")


@dataclass(frozen=True, slots=True)
class Contribution:
    """One factor's part in an assessment.

    Attributes:
        factor: the rule set's factor name (``access_to_children``, ...).
        tool: the published tool the factor comes from (``KIRAT step 2``), or
            ``operational`` for factors no published tool has.
        points: points added to the score (0 when the factor is absent).
        reason: what in the subject's record triggered it, in words.
        minimum_band: a band the factor sets as a floor, if any.
    """

    factor: str
    tool: str
    points: int
    reason: str
    minimum_band: Band | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """A computed priority for one subject.

    Attributes:
        subject_id: the subject.
        band: the computed band.
        score: the sum of the contributions' points.
        contributions: every factor, with the points it added (absent ones with 0).
        rules_version: the rule set's name and version.
        rules_digest: SHA-256 of the rule set's text, so a result names exactly its rules.
        computed_at: when.
    """

    subject_id: int
    band: Band
    score: int
    contributions: tuple[Contribution, ...]
    rules_version: str
    rules_digest: str
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class Override:
    """An analyst's band for a subject, kept next to the computed one.

    Attributes:
        subject_id: the subject.
        band: the analyst's band.
        computed_band: the computed band when the override was made.
        reason: why (required).
        by, at: who and when.
        cleared_by, cleared_at: set when the override was withdrawn.
        override_id: the store's id; 0 before stored.
    """

    subject_id: int
    band: Band
    computed_band: Band
    reason: str
    by: str
    at: datetime
    cleared_by: str | None = None
    cleared_at: datetime | None = None
    override_id: int = 0

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InputError("an override needs a reason")

    @property
    def active(self) -> bool:
        """True until withdrawn."""
        return self.cleared_at is None
