"""Matches of a file or hash against list entries, and the verdict they add up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.hash_lists import (
    UNCATEGORISED,
    Category,
    HashEntry,
    HashList,
    ListKind,
    Provenance,
)

DEFAULT_PDQ_THRESHOLD = 31

SUPPORTED_PDQ_THRESHOLD = 64
"""The largest PDQ threshold the robustness benchmark measured with no false match
(docs/robustness.md: 0 in 600,000 unrelated pairs at 40, 48, 56 and 64). Above it a
threshold is accepted with a warning: validate it on your own data first."""

MAX_PDQ_THRESHOLD = 80
"""The largest PDQ threshold accepted anywhere. The closest unrelated picture in the
benchmark's 600,000 pairs was 78 bits away and two unrelated hashes differ by about 128
bits on average, so beyond this unrelated pictures start to match and matching means
nothing (at 200, 57 of 58 innocent pictures matched)."""


def check_pdq_threshold(threshold: int) -> str | None:
    """Check a PDQ threshold someone is setting; return a warning for a risky one.

    Returns:
        None for a threshold the benchmark supports; a one-line warning for one between
        `SUPPORTED_PDQ_THRESHOLD` and `MAX_PDQ_THRESHOLD`.

    Raises:
        ConfigurationError: below 0 or above `MAX_PDQ_THRESHOLD`.
    """
    if not 0 <= threshold <= MAX_PDQ_THRESHOLD:
        raise ConfigurationError(
            f"a PDQ threshold must be between 0 and {MAX_PDQ_THRESHOLD}, not {threshold}: "
            "beyond that unrelated pictures match (docs/robustness.md)"
        )
    if threshold > SUPPORTED_PDQ_THRESHOLD:
        return (
            f"PDQ threshold {threshold} is above {SUPPORTED_PDQ_THRESHOLD}, the largest the "
            "robustness benchmark found free of false matches; expect false matches and "
            "validate it on your own data"
        )
    return None


def effective_pdq_threshold(stored: int | None, default: int) -> int:
    """The threshold matching uses for a list: its own, capped, or the default.

    The cap (`MAX_PDQ_THRESHOLD`) means a value stored before the check existed never makes
    everything match.
    """
    if stored is None:
        return default
    return max(0, min(stored, MAX_PDQ_THRESHOLD))


@dataclass(frozen=True, slots=True)
class Match:
    """One hit of a query against one list entry.

    A perceptual match is intelligence, not proof: it carries the distance, the query's
    quality, and which variant of the query matched so a reviewer sees why.

    Attributes:
        list_name: the list that holds the entry.
        list_kind: what the list means.
        list_version: the list's version at match time.
        entry_id: the entry's id as the list gives it.
        algorithm: which digest matched.
        distance: 0 for exact matches; Hamming distance for PDQ.
        threshold: the threshold the distance was compared with (0 for exact).
        query_quality: PDQ quality of the query, None for exact matches.
        variant: which query variant matched ("original", "rot90", "border-trimmed", ...).
        category: the entry's category.
        provenance: the entry's provenance.
        frame_seconds: for a match on a frame sampled from a video, the frame's time from
            the start of the video in seconds; None for anything else.
    """

    list_name: str
    list_kind: ListKind
    entry_id: str
    algorithm: HashAlgorithm
    distance: int = 0
    threshold: int = 0
    list_version: str = ""
    query_quality: int | None = None
    variant: str = "original"
    category: Category = UNCATEGORISED
    provenance: Provenance = field(default_factory=Provenance)
    frame_seconds: float | None = None

    @classmethod
    def of_entry(
        cls,
        hash_list: HashList,
        entry: HashEntry,
        algorithm: HashAlgorithm,
        *,
        distance: int = 0,
        threshold: int = 0,
        quality: int | None = None,
        variant: str = "original",
    ) -> Match:
        """The match of a query against `entry` of `hash_list`, carrying both one's details."""
        return cls(
            list_name=hash_list.name,
            list_kind=hash_list.kind,
            entry_id=entry.entry_id,
            algorithm=algorithm,
            distance=distance,
            threshold=threshold,
            list_version=hash_list.version,
            query_quality=quality,
            variant=variant,
            category=entry.category,
            provenance=entry.provenance,
        )

    @property
    def is_exact(self) -> bool:
        """True for matches on an equal value: cryptographic digests, and PhotoDNA.

        Safeguard compares PhotoDNA values only for equality; matching them by distance needs
        Microsoft's licensed PhotoDNA algorithm, which Safeguard does not have.
        """
        return self.algorithm.is_cryptographic or self.algorithm is HashAlgorithm.PHOTODNA


class Verdict(StrEnum):
    """What the matches of one item add up to."""

    KNOWN_BAD = "known-bad"
    KNOWN_GOOD = "known-good"
    IGNORABLE = "ignorable"
    UNKNOWN = "unknown"


def verdict_of(matches: Sequence[Match]) -> Verdict:
    """Combine matches: known-bad always wins; known-good never overrides it."""
    kinds = {m.list_kind for m in matches}
    if ListKind.KNOWN_BAD in kinds:
        return Verdict.KNOWN_BAD
    if ListKind.KNOWN_GOOD in kinds:
        return Verdict.KNOWN_GOOD
    if ListKind.IGNORABLE in kinds:
        return Verdict.IGNORABLE
    return Verdict.UNKNOWN
