"""Hash lists, their entries, categories and provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from safeguard.domain.digests import HashAlgorithm


class ListKind(StrEnum):
    """What a match against the list means."""

    KNOWN_BAD = "known-bad"
    KNOWN_GOOD = "known-good"
    IGNORABLE = "ignorable"


@dataclass(frozen=True, slots=True)
class Category:
    """A classification as a list states it: the scheme, the code in that scheme, a label.

    Tools disagree on codes (Project VIC 0 vs 5 for uncategorised), so the scheme always
    travels with the code. `UNCATEGORISED` is distinct from every code of every scheme.
    """

    scheme: str
    code: str
    label: str

    @property
    def is_uncategorised(self) -> bool:
        """True only for the explicit "no category" value."""
        return self == UNCATEGORISED


UNCATEGORISED = Category("none", "", "Uncategorised")

UK_SENTENCING = "uk-sentencing"
PROJECT_VIC = "project-vic"
INDUSTRY = "industry"

# Labels are the schemes' own names for their codes, deliberately without the legal
# definitions: Safeguard never describes content, and reviewers know their scheme.
CATEGORY_SCHEMES: Mapping[str, Mapping[str, str]] = {
    UK_SENTENCING: {
        "A": "Category A (Sentencing Council)",
        "B": "Category B (Sentencing Council)",
        "C": "Category C (Sentencing Council)",
    },
    PROJECT_VIC: {
        "0": "Non-pertinent",
        "1": "Child abuse material",
        "2": "Child exploitive (non-CAM) / age difficult",
        "3": "CGI / animation, child exploitive",
        "4": "Comparison image",
    },
    INDUSTRY: {
        "A1": "Industry A1",
        "A2": "Industry A2",
        "B1": "Industry B1",
        "B2": "Industry B2",
    },
}


def category_for(scheme: str, code: str | int | None) -> Category:
    """Build a category from a scheme name and a code, with the scheme's label.

    An empty or missing code gives `UNCATEGORISED`; an unknown code keeps the code with a
    label saying it is not in the scheme, rather than being lost.
    """
    if code is None or str(code).strip() == "":
        return UNCATEGORISED
    text = str(code).strip().upper()
    labels = CATEGORY_SCHEMES.get(scheme, {})
    return Category(scheme, text, labels.get(text, f"{scheme} code {text} (not in scheme)"))


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an entry came from, as the list states it."""

    source_record_id: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    first_seen: date | None = None
    last_seen: date | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class HashEntry:
    """One row of a hash list: any digests of one item, its category and provenance.

    Attributes:
        entry_id: the id the list gives the entry (or a stable one derived on import).
        digests: algorithm -> canonical value; PhotoDNA kept verbatim.
        category: classification, `UNCATEGORISED` when the list gives none.
        provenance: source record, series, victim-identified flag, dates.
        file_name: a name the list records for the item, if any (never used for matching).
        size: file size the list records, if any.
    """

    entry_id: str
    digests: Mapping[HashAlgorithm, str]
    category: Category = UNCATEGORISED
    provenance: Provenance = field(default_factory=Provenance)
    file_name: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class HashList:
    """A named hash list and its metadata.

    Attributes:
        name: unique name in this store.
        kind: known-bad, known-good or ignorable.
        source: who issued it (e.g. "Project VIC", "NSRL", a platform).
        version: the issuer's version string, recorded on every result.
        imported_at: when this version was imported (timezone-aware).
        pdq_threshold: Hamming threshold for PDQ on this list; None means the default.
        enabled: disabled lists are kept but not matched.
        action: what a service does on a match (block, quarantine, report, webhook), if set.
        entry_count: number of entries, as last counted by the store.
    """

    name: str
    kind: ListKind
    source: str = ""
    version: str = ""
    imported_at: datetime | None = None
    pdq_threshold: int | None = None
    enabled: bool = True
    action: str | None = None
    entry_count: int = 0
