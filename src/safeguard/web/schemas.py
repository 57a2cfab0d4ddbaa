"""Models every area of the HTTP API shares: the request-body base, a match, an error answer.

Each area's own request and response models live beside this: `match_schemas` (matching
items and hashes), `list_schemas` (lists, entries, imports and retroactive matching) and
`review_schemas` (reports, quarantine, audit, webhook deliveries).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, field_validator

from safeguard.domain.matches import Match


class InputModel(BaseModel):
    """A request body: no text field may hold a NUL character (422, never a store error)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("NUL characters are not accepted")
        return value


class CategoryOut(BaseModel):
    """A classification as the list states it."""

    scheme: str
    code: str
    label: str


class ProvenanceOut(BaseModel):
    """Where the entry came from, as the list states it."""

    source_record_id: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    first_seen: date | None = None
    last_seen: date | None = None
    notes: str | None = None


class MatchOut(BaseModel):
    """One match: intelligence, not proof; distance, threshold and quality say how close."""

    list_name: str
    list_kind: str
    list_version: str
    entry_id: str
    algorithm: str
    distance: int
    threshold: int
    query_quality: int | None
    variant: str
    category: CategoryOut
    provenance: ProvenanceOut

    @classmethod
    def of(cls, match: Match) -> MatchOut:
        """From the domain."""
        prov = match.provenance
        return cls(
            list_name=match.list_name,
            list_kind=match.list_kind.value,
            list_version=match.list_version,
            entry_id=match.entry_id,
            algorithm=match.algorithm.value,
            distance=match.distance,
            threshold=match.threshold,
            query_quality=match.query_quality,
            variant=match.variant,
            category=CategoryOut(
                scheme=match.category.scheme, code=match.category.code, label=match.category.label
            ),
            provenance=ProvenanceOut(
                source_record_id=prov.source_record_id,
                series=prov.series,
                victim_identified=prov.victim_identified,
                first_seen=prov.first_seen,
                last_seen=prov.last_seen,
                notes=prov.notes,
            ),
        )


class Problem(BaseModel):
    """An error answer."""

    detail: str
