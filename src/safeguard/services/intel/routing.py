"""Route a package to the force covering the subject's address, or to a desk.

Rules, in order:

1. an analyst's override (a force or desk, with a reason) wins, and the automatic answer is
   kept beside it;
2. a country outside the UK, or a Crown Dependency postcode (GY, JE, IM), goes to the
   international queue;
3. a full postcode found in the directory goes to the force covering its local authority;
4. a postcode not found, or only a district (``S18``), goes by its district when every
   postcode of the district is in one force; when the district spans several forces the
   analyst is asked (`AmbiguousRoutingError` names the candidates);
5. no usable location goes to the national desk.
"""

from __future__ import annotations

import re

from safeguard.domain.errors import InputError
from safeguard.domain.forces import (
    INTERNATIONAL_QUEUE,
    NATIONAL_DESK,
    destination_name,
    is_destination,
)
from safeguard.domain.package_content import Location
from safeguard.domain.packages import RoutingDecision
from safeguard.storage.postcodes import PostcodeDirectory

UK_NAMES = frozenset(
    {
        "",
        "UK",
        "GB",
        "GBR",
        "UNITED KINGDOM",
        "GREAT BRITAIN",
        "ENGLAND",
        "WALES",
        "SCOTLAND",
        "NORTHERN IRELAND",
    }
)
CROWN_DEPENDENCY_AREAS = ("GY", "JE", "IM")

_FULL = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


class AmbiguousRoutingError(InputError):
    """The postcode district spans several forces: an analyst must choose (override)."""

    def __init__(self, district: str, candidates: frozenset[str]) -> None:
        self.district = district
        self.candidates = tuple(sorted(candidates))
        names = ", ".join(destination_name(c) for c in self.candidates)
        super().__init__(
            f"postcode district {district} is covered by several forces ({names}); "
            "choose one with an override and a reason"
        )


def normalise_postcode(raw: str) -> tuple[str, str]:
    """(district, full postcode without spaces); full is "" when only a district was given.

    Raises:
        InputError: not shaped like a UK postcode or district.
    """
    compact = re.sub(r"\s+", "", raw.upper())
    full = _FULL.match(compact)
    if full:
        return full.group(1), compact
    if _DISTRICT.match(compact):
        return compact, ""
    raise InputError(f"{raw!r} is not a UK postcode or postcode district")


def spaced(postcode: str) -> str:
    """``SW1A1AA`` as people write it: ``SW1A 1AA``."""
    return f"{postcode[:-3]} {postcode[-3:]}" if len(postcode) > 4 else postcode


class ForceRouter:
    """Decides a package's destination from the subject's location (see module rules)."""

    def __init__(self, directory: PostcodeDirectory) -> None:
        self._directory = directory

    @property
    def provenance(self) -> str:
        """The directory's provenance line."""
        return self._directory.provenance

    def route(self, location: Location) -> RoutingDecision:
        """The automatic decision for `location`.

        Raises:
            AmbiguousRoutingError: the postcode's district spans forces; ask the analyst.
        """
        country = location.country.strip().upper()
        if country not in UK_NAMES:
            return RoutingDecision(INTERNATIONAL_QUEUE, "outside-uk", f"country {location.country}")
        if not location.postcode.strip():
            return RoutingDecision(NATIONAL_DESK, "no-location", "no postcode recorded")
        try:
            district, full = normalise_postcode(location.postcode)
        except InputError as exc:
            return RoutingDecision(NATIONAL_DESK, "no-location", str(exc))
        if district.startswith(CROWN_DEPENDENCY_AREAS) and district[2:3].isdigit():
            return RoutingDecision(
                INTERNATIONAL_QUEUE, "outside-uk", f"{district} is a Crown Dependency postcode"
            )
        if full:
            answer = self._directory.lookup(full)
            if answer is not None:
                if answer.force is None:
                    return RoutingDecision(
                        INTERNATIONAL_QUEUE,
                        "outside-uk",
                        f"{spaced(full)} is in a Crown Dependency ({answer.lad_code})",
                    )
                return RoutingDecision(
                    answer.force,
                    "postcode",
                    f"{spaced(full)} in {answer.lad_name or answer.lad_code} ({answer.lad_code})",
                )
        candidates = self._directory.district_forces(district)
        given = spaced(full) if full else district
        if not candidates:
            return RoutingDecision(
                NATIONAL_DESK, "no-location", f"postcode {given} is not in the directory"
            )
        if len(candidates) > 1:
            raise AmbiguousRoutingError(district, candidates)
        (force,) = candidates
        return RoutingDecision(
            force, "district", f"postcode {given}: district {district} lies in one force"
        )

    def override(
        self, location: Location, destination: str, reason: str, analyst: str
    ) -> RoutingDecision:
        """An analyst's choice, with the reason and what automatic routing would have said.

        Raises:
            InputError: an unknown destination or an empty reason.
        """
        if not is_destination(destination):
            raise InputError(f"{destination!r} is not a force key or desk")
        if not reason.strip():
            raise InputError("an override needs a reason")
        try:
            automatic = self.route(location)
            detail = f"automatic routing: {automatic.destination} ({automatic.detail})"
        except AmbiguousRoutingError as exc:
            detail = f"automatic routing: ambiguous, one of {', '.join(exc.candidates)}"
        return RoutingDecision(destination, "override", detail, reason.strip(), analyst)
