from __future__ import annotations

import pytest

from safeguard.domain.errors import InputError
from safeguard.domain.forces import INTERNATIONAL_QUEUE, NATIONAL_DESK, all_forces
from safeguard.domain.package_content import Location
from safeguard.services.intel.routing import (
    AmbiguousRoutingError,
    ForceRouter,
    normalise_postcode,
)
from safeguard.services.intel.synthetic_dossiers import FORCE_POSTCODES
from tests.package_support import shared_directory


@pytest.fixture(scope="module")
def router() -> ForceRouter:
    return ForceRouter(shared_directory())


def test_each_of_the_45_forces_is_reachable_from_a_postcode(router: ForceRouter) -> None:
    assert set(FORCE_POSTCODES) == {f.key for f in all_forces()}
    for force, postcode in FORCE_POSTCODES.items():
        decision = router.route(Location(postcode=postcode))
        assert (decision.destination, decision.method) == (force, "postcode"), postcode


@pytest.mark.parametrize(
    ("written", "expected"),
    [("sw1a2aa", ("SW1A", "SW1A2AA")), (" M1  1AE ", ("M1", "M11AE")), ("s18", ("S18", ""))],
)
def test_postcodes_are_normalised(written: str, expected: tuple[str, str]) -> None:
    assert normalise_postcode(written) == expected


def test_spelling_does_not_matter(router: ForceRouter) -> None:
    assert router.route(Location(postcode="ct12eh")).destination == "kent"


def test_city_of_london_boundary_is_exact_by_full_postcode(router: ForceRouter) -> None:
    # EC1A spans the City and the Met: the full postcode decides, the district alone cannot.
    assert router.route(Location(postcode="EC2V 7HH")).destination == "city-of-london"
    with pytest.raises(AmbiguousRoutingError) as raised:
        router.route(Location(postcode="EC1A"))
    assert set(raised.value.candidates) == {"city-of-london", "metropolitan"}
    assert "choose one" in str(raised.value)


def test_district_in_one_force_routes_by_district(router: ForceRouter) -> None:
    decision = router.route(Location(postcode="NE1"))
    assert (decision.destination, decision.method) == ("northumbria", "district")


def test_unlisted_postcode_falls_back_to_its_district(router: ForceRouter) -> None:
    # Inward codes never end in C or I, so CT1 9CI is listed nowhere; CT1 lies in Kent.
    decision = router.route(Location(postcode="CT1 9CI"))
    assert (decision.destination, decision.method) == ("kent", "district")


@pytest.mark.parametrize("postcode", ["", "   ", "not a postcode", "ZZ9 9ZZ"])
def test_no_usable_location_goes_to_the_national_desk(router: ForceRouter, postcode: str) -> None:
    decision = router.route(Location(postcode=postcode))
    assert (decision.destination, decision.method) == (NATIONAL_DESK, "no-location")


@pytest.mark.parametrize(
    "location",
    [
        Location(postcode="75001", country="France"),
        Location(country="Ireland"),
        Location(postcode="GY1 1AA", country="UK"),
        Location(postcode="JE2 3AA"),
        Location(postcode="IM1 1AA"),
    ],
)
def test_outside_the_uk_goes_to_the_international_queue(
    router: ForceRouter, location: Location
) -> None:
    decision = router.route(location)
    assert (decision.destination, decision.method) == (INTERNATIONAL_QUEUE, "outside-uk")


def test_override_keeps_reason_analyst_and_automatic_answer(router: ForceRouter) -> None:
    decision = router.override(Location(postcode="CT1 2EH"), "essex", "moved last week", "ana")
    assert decision.destination == "essex"
    assert (decision.method, decision.reason, decision.decided_by) == (
        "override",
        "moved last week",
        "ana",
    )
    assert "kent" in decision.detail
    assert "moved last week" in decision.note


def test_override_resolves_an_ambiguous_district(router: ForceRouter) -> None:
    decision = router.override(Location(postcode="EC1A"), "metropolitan", "address on file", "ana")
    assert decision.destination == "metropolitan"
    assert "ambiguous" in decision.detail


@pytest.mark.parametrize(("destination", "reason"), [("atlantis", "why"), ("kent", "  ")])
def test_override_needs_a_real_destination_and_a_reason(
    router: ForceRouter, destination: str, reason: str
) -> None:
    with pytest.raises(InputError):
        router.override(Location(postcode="CT1 2EH"), destination, reason, "ana")


def test_provenance_names_source_and_licence(router: ForceRouter) -> None:
    assert "Open Government Licence" in router.provenance
    assert "2026.1.1" in router.provenance
