"""The 45 UK police forces a package can go to, and the two desks for everything else.

The table ships as package data (`reference/forces.csv`): the 43 territorial forces of
England and Wales, Police Scotland and the Police Service of Northern Ireland, each with its
ONS Police Force Area (PFA) code and name. Provenance: ONS "PFA names and codes GB"
(December 2015 vintage, Open Government Licence v3.0); Northern Ireland has no PFA code in
that list, so its ONS pseudo code ``N99999999`` is used. `reference/lad_to_force.csv` maps
every 2025 local authority district (LAD25) to the force covering it; see docs/packages.md.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from safeguard.domain.errors import NotFoundError

NATIONAL_DESK = "national-desk"
"""Destination of a subject with no usable UK location: the national unit keeps it."""

INTERNATIONAL_QUEUE = "international-queue"
"""Destination of a subject located outside the UK (or in a Crown Dependency)."""

DESKS = (NATIONAL_DESK, INTERNATIONAL_QUEUE)


@dataclass(frozen=True, slots=True)
class Force:
    """One police force.

    Attributes:
        key: short stable identifier (the data.police.uk id where one exists).
        pfa_code: ONS Police Force Area code (``E23000001``...; pseudo ``N99999999`` for NI).
        pfa_name: the ONS name of the area.
        name: the force's own name.
        nation: England, Wales, Scotland or Northern Ireland.
    """

    key: str
    pfa_code: str
    pfa_name: str
    name: str
    nation: str


def _reference(name: str) -> list[dict[str, str]]:
    text = files("safeguard.domain").joinpath("reference", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def all_forces() -> tuple[Force, ...]:
    """The 45 forces in ONS code order (England, Wales, Scotland, Northern Ireland)."""
    return tuple(
        Force(r["key"], r["pfa_code"], r["pfa_name"], r["force_name"], r["nation"])
        for r in _reference("forces.csv")
    )


@cache
def _by_key() -> dict[str, Force]:
    return {force.key: force for force in all_forces()}


def force_by_key(key: str) -> Force:
    """The force with this key or PFA code.

    Raises:
        NotFoundError: no force has that key or code.
    """
    found = _by_key().get(key)
    if found is None:
        found = next((f for f in all_forces() if f.pfa_code == key.upper()), None)
    if found is None:
        raise NotFoundError(f"no police force {key!r}")
    return found


def is_destination(key: str) -> bool:
    """True for a force key or one of the two desks."""
    return key in DESKS or key in _by_key()


def destination_name(key: str) -> str:
    """A person's name for a destination: the force name, or the desk's."""
    if key == NATIONAL_DESK:
        return "National desk (no usable UK location)"
    if key == INTERNATIONAL_QUEUE:
        return "International queue (outside the UK)"
    return force_by_key(key).name


@cache
def lad_to_force() -> dict[str, str]:
    """Local authority district code (LAD25) to force key, for all 361 UK districts."""
    return {r["lad_code"]: r["force_key"] for r in _reference("lad_to_force.csv")}
