"""The port for postcode data: full postcodes to local authorities, districts to forces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PostcodeAnswer:
    """What the directory knows of one full postcode."""

    postcode: str
    lad_code: str
    lad_name: str
    force: str | None
    """Force key; None for a Crown Dependency (pseudo local authority codes)."""


class PostcodeDirectory(Protocol):
    """Postcode data: full postcodes to local authorities, districts to forces."""

    @property
    def provenance(self) -> str:
        """Where the data come from, their vintage and licence, in one line."""
        ...

    def lookup(self, postcode: str) -> PostcodeAnswer | None:
        """The answer for a normalised full postcode (``SW1A1AA``), None if not listed."""
        ...

    def district_forces(self, district: str) -> frozenset[str]:
        """Forces covering any postcode of a district (``S18``); empty if unknown."""
        ...
