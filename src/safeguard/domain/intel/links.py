"""Links between subjects, with what they share, how much it weighs and who made them.

A computed link is one shared thing (an identifier key or an image key) between two
subjects, weighted by the kind of thing and by its rarity. Analyst links carry who, when
and why. An analyst's unlink suppresses computed links between a pair until lifted.
Merges keep enough to be undone exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LinkKind(StrEnum):
    """How a link was made."""

    IDENTIFIER = "identifier"
    IMAGE = "image"
    ANALYST = "analyst"


@dataclass(frozen=True, slots=True)
class Link:
    """One reason two subjects are linked.

    Attributes:
        subject_a, subject_b: the subjects, ``subject_a < subject_b``.
        kind: identifier, image or analyst.
        key: what they share (``email:x@example.com``, ``entry:list:E1``, ``ip:192.0.2.1``);
            for analyst links, ``analyst``.
        weight: 0-1, the kind's base weight times the key's rarity (1 for analyst links).
        evidence: referral ids on both sides that carry the shared thing.
        provenance: how it was made: the linking rules' version, or the analyst and why.
        created_at: when it was made.
        created_by: ``linker`` for computed links, else the analyst.
        link_id: the store's id; 0 before stored.
    """

    subject_a: int
    subject_b: int
    kind: LinkKind
    key: str
    weight: float
    evidence: tuple[int, ...]
    provenance: str
    created_at: datetime
    created_by: str = "linker"
    link_id: int = 0

    def __post_init__(self) -> None:
        if self.subject_a >= self.subject_b:
            raise ValueError("a link's subject_a must be the smaller id")

    @property
    def pair(self) -> tuple[int, int]:
        """The two subjects, smaller id first."""
        return (self.subject_a, self.subject_b)

    def other(self, subject_id: int) -> int:
        """The subject at the other end from `subject_id`."""
        return self.subject_b if subject_id == self.subject_a else self.subject_a


def ordered_pair(a: int, b: int) -> tuple[int, int]:
    """`(a, b)` with the smaller id first.

    Raises:
        ValueError: `a == b`.
    """
    if a == b:
        raise ValueError("a subject cannot be linked to itself")
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True, slots=True)
class Suppression:
    """An analyst's decision that two subjects are not linked (computed links ignored).

    Attributes:
        subject_a, subject_b: the pair, smaller id first.
        by, at, reason: who decided, when and why.
        lifted_by, lifted_at: set when the decision was reversed.
        suppression_id: the store's id; 0 before stored.
    """

    subject_a: int
    subject_b: int
    by: str
    at: datetime
    reason: str
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    suppression_id: int = 0

    @property
    def active(self) -> bool:
        """True until lifted."""
        return self.lifted_at is None


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """Two subjects merged into one, with everything needed to undo it exactly.

    Attributes:
        survivor_id: the subject that remains.
        absorbed_id: the subject merged into it (kept, marked merged).
        by, at, reason: who merged, when and why.
        moved_referrals: referral ids moved from the absorbed subject to the survivor.
        moved_exhibits: exhibit attachment ids moved likewise.
        undone_by, undone_at, undone_reason: set when the merge was split again.
        merge_id: the store's id; 0 before stored.
    """

    survivor_id: int
    absorbed_id: int
    by: str
    at: datetime
    reason: str
    moved_referrals: tuple[int, ...] = ()
    moved_exhibits: tuple[int, ...] = ()
    undone_by: str | None = None
    undone_at: datetime | None = None
    undone_reason: str | None = None
    merge_id: int = 0

    @property
    def active(self) -> bool:
        """True until split again."""
        return self.undone_at is None


IMAGE_KIND = "image"  # same as referrals.IMAGE_KEY_KIND
"""The `KeyObservation.kind` of an image key (identifier keys carry their identifier kind)."""


@dataclass(frozen=True, slots=True)
class KeyObservation:
    """One linkable thing seen in one referral: what linking reads.

    Attributes:
        referral_id: the referral.
        subject_id: the subject the referral is attached to.
        kind: an `IdentifierKind` value, or `IMAGE_KIND`.
        key: the identifier's or image's key.
        observed_at: when it was seen (IP addresses: the capture time), if known.
        port: the source port of an IP observation, if known.
    """

    referral_id: int
    subject_id: int
    kind: str
    key: str
    observed_at: datetime | None = None
    port: int | None = None
