from __future__ import annotations

import pytest

from safeguard.domain.errors import NotFoundError
from safeguard.domain.forces import (
    INTERNATIONAL_QUEUE,
    NATIONAL_DESK,
    all_forces,
    destination_name,
    force_by_key,
    is_destination,
    lad_to_force,
)


def test_the_45_forces_with_unique_keys_and_pfa_codes() -> None:
    forces = all_forces()
    assert len(forces) == 45
    assert len({f.key for f in forces}) == 45
    assert len({f.pfa_code for f in forces}) == 45
    nations = [f.nation for f in forces]
    assert nations.count("England") == 39
    assert nations.count("Wales") == 4
    assert force_by_key("scotland").name == "Police Scotland"
    assert force_by_key("northern-ireland").name == "Police Service of Northern Ireland"
    assert force_by_key("E23000001").key == "metropolitan"
    assert force_by_key("e23000034").key == "city-of-london"


def test_unknown_force_and_desks() -> None:
    with pytest.raises(NotFoundError):
        force_by_key("atlantis")
    assert is_destination(NATIONAL_DESK)
    assert is_destination(INTERNATIONAL_QUEUE)
    assert is_destination("kent")
    assert not is_destination("atlantis")
    assert "National desk" in destination_name(NATIONAL_DESK)


def test_every_district_maps_to_a_force_and_every_force_has_a_district() -> None:
    table = lad_to_force()
    assert len(table) == 361
    keys = {f.key for f in all_forces()}
    assert set(table.values()) == keys
    assert all(code[:3] in {"E06", "E07", "E08", "E09", "W06", "S12", "N09"} for code in table)
    assert {table[c] for c in table if c.startswith("S12")} == {"scotland"}
    assert {table[c] for c in table if c.startswith("N09")} == {"northern-ireland"}
    assert table["E09000001"] == "city-of-london"
