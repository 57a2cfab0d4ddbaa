"""The 3x5x2 grading of intelligence: source evaluation, intelligence assessment, handling code.

Codes follow the UK College of Policing model: source 1-3, intelligence A-E, handling P or
C (C carries the conditions that apply). Written together as e.g. ``1AP`` or ``2BC``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safeguard.domain.errors import InputError


class SourceEvaluation(StrEnum):
    """How reliable the source is (the "3")."""

    RELIABLE = "1"
    UNTESTED = "2"
    NOT_RELIABLE = "3"


class IntelligenceAssessment(StrEnum):
    """How the source knows what it reports (the "5")."""

    KNOWN_DIRECTLY = "A"
    KNOWN_INDIRECTLY_CORROBORATED = "B"
    KNOWN_INDIRECTLY = "C"
    NOT_KNOWN = "D"
    SUSPECTED_FALSE = "E"


class HandlingCode(StrEnum):
    """Whether the intelligence may be shared (the "2")."""

    PERMITTED = "P"
    CONDITIONS = "C"


SOURCE_LABELS = {
    SourceEvaluation.RELIABLE: "Reliable",
    SourceEvaluation.UNTESTED: "Untested",
    SourceEvaluation.NOT_RELIABLE: "Not reliable",
}
INTELLIGENCE_LABELS = {
    IntelligenceAssessment.KNOWN_DIRECTLY: "Known directly to the source",
    IntelligenceAssessment.KNOWN_INDIRECTLY_CORROBORATED: (
        "Known indirectly to the source but corroborated"
    ),
    IntelligenceAssessment.KNOWN_INDIRECTLY: "Known indirectly to the source",
    IntelligenceAssessment.NOT_KNOWN: "Not known to the source",
    IntelligenceAssessment.SUSPECTED_FALSE: "Suspected to be false",
}
HANDLING_LABELS = {
    HandlingCode.PERMITTED: "Lawful sharing permitted",
    HandlingCode.CONDITIONS: "Lawful sharing permitted with conditions",
}


@dataclass(frozen=True, slots=True)
class Grading:
    """A referral's 3x5x2 grading.

    Attributes:
        source: source evaluation 1-3.
        intelligence: intelligence assessment A-E.
        handling: handling code P or C.
        conditions: the handling conditions; required (non-empty) for code C, empty for P.
    """

    source: SourceEvaluation = SourceEvaluation.UNTESTED
    intelligence: IntelligenceAssessment = IntelligenceAssessment.KNOWN_INDIRECTLY
    handling: HandlingCode = HandlingCode.PERMITTED
    conditions: str = ""

    def __post_init__(self) -> None:
        if self.handling is HandlingCode.CONDITIONS and not self.conditions.strip():
            raise InputError("handling code C needs its conditions")
        if self.handling is HandlingCode.PERMITTED and self.conditions.strip():
            raise InputError("handling code P takes no conditions (use C)")

    @property
    def code(self) -> str:
        """The grading written as three characters, e.g. ``1AP``."""
        return f"{self.source.value}{self.intelligence.value}{self.handling.value}"

    @classmethod
    def parse(cls, code: str, conditions: str = "") -> Grading:
        """A grading from its three-character code (``2BC``) and, for C, its conditions.

        Raises:
            InputError: the code is not of the form [1-3][A-E][PC], or C lacks conditions.
        """
        text = code.strip().upper()
        if len(text) != 3:
            raise InputError(f"grading {code!r} is not three characters like 1AP")
        try:
            return cls(
                SourceEvaluation(text[0]),
                IntelligenceAssessment(text[1]),
                HandlingCode(text[2]),
                conditions.strip(),
            )
        except ValueError as exc:
            raise InputError(
                f"grading {code!r}: source 1-3, intelligence A-E, handling P or C"
            ) from exc

    def describe(self) -> str:
        """The grading in words, for people."""
        words = (
            f"{self.code}: {SOURCE_LABELS[self.source]}; "
            f"{INTELLIGENCE_LABELS[self.intelligence]}; {HANDLING_LABELS[self.handling]}"
        )
        return f"{words} ({self.conditions})" if self.conditions else words
