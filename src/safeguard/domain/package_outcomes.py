"""What a force reports back for a package: the figures an operation publishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from safeguard.domain.errors import InputError


@dataclass(frozen=True, slots=True)
class SeizedDevice:
    """A device seized on the package, linked to the forensic case opened for it.

    Attributes:
        description: what it is (``laptop``, ``phone``, ...).
        case_number: the forensic case in which it is examined ("" until one is opened).
        exhibit_reference: its exhibit reference in that case ("" until registered).
    """

    description: str
    case_number: str = ""
    exhibit_reference: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One report of what happened on a package (the latest report counts).

    Attributes:
        outcome_id: the store's id (0 before it is stored).
        package_id: the package.
        force: the force that reported (the package's destination).
        occurred_on: the date of the action (for figures over time).
        premises_searched, arrests, voluntary_interviews, charges: counts.
        devices: devices seized, each linked to its forensic case where one exists.
        children_safeguarded: children safeguarded; `children_at_serious_risk` of them.
        safeguarding_basis: how the children were counted (no national definition exists;
            e.g. "in the care, custody or control of the suspect").
        registered_sex_offender: whether the person was a registered sex offender
            (None when not known).
        notes: free text.
        recorded_by, recorded_at: who reported it, when.
    """

    outcome_id: int
    package_id: int
    force: str
    occurred_on: date
    premises_searched: int = 0
    arrests: int = 0
    voluntary_interviews: int = 0
    charges: int = 0
    devices: tuple[SeizedDevice, ...] = ()
    children_safeguarded: int = 0
    children_at_serious_risk: int = 0
    safeguarding_basis: str = ""
    registered_sex_offender: bool | None = None
    notes: str = ""
    recorded_by: str = ""
    recorded_at: datetime | None = None

    def __post_init__(self) -> None:
        counts = (
            self.premises_searched,
            self.arrests,
            self.voluntary_interviews,
            self.charges,
            self.children_safeguarded,
            self.children_at_serious_risk,
        )
        if any(c < 0 for c in counts):
            raise InputError("outcome counts cannot be negative")
        if self.children_at_serious_risk > self.children_safeguarded:
            raise InputError("children at serious risk are counted among those safeguarded")
        if self.children_safeguarded and not self.safeguarding_basis.strip():
            raise InputError("say how the children safeguarded were counted (the basis)")

    @property
    def devices_seized(self) -> int:
        """How many devices were seized."""
        return len(self.devices)


FIGURE_FIELDS = (
    "packages",
    "premises_searched",
    "arrests",
    "voluntary_interviews",
    "charges",
    "devices_seized",
    "devices_examined",
    "children_safeguarded",
    "children_at_serious_risk",
    "registered_sex_offenders",
)
"""The columns of the dashboard and its CSV, in order."""


@dataclass(frozen=True, slots=True)
class Figures:
    """Summed outcome figures for a force, a month or the whole operation.

    `devices_examined` counts exhibits of the linked forensic cases that have a completed
    scan, so it comes from real exhibits, not from what a force typed.
    """

    packages: int = 0
    premises_searched: int = 0
    arrests: int = 0
    voluntary_interviews: int = 0
    charges: int = 0
    devices_seized: int = 0
    devices_examined: int = 0
    children_safeguarded: int = 0
    children_at_serious_risk: int = 0
    registered_sex_offenders: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f) + getattr(other, f) for f in FIGURE_FIELDS))

    def row(self) -> tuple[int, ...]:
        """The figures in `FIGURE_FIELDS` order."""
        return tuple(getattr(self, f) for f in FIGURE_FIELDS)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The operation dashboard: per force, nationally, and month by month.

    Attributes:
        title: what the dashboard covers (the operation, or one force).
        generated_at: when it was computed.
        by_force: (force key, force name, figures), forces with packages only.
        national: totals over `by_force`.
        by_month: (``YYYY-MM``, figures) in date order: packages by the month they were
            disseminated, outcome figures by the date of the action.
        workflow: package counts per workflow state, and ``overdue``.
    """

    title: str
    generated_at: datetime
    by_force: tuple[tuple[str, str, Figures], ...]
    national: Figures
    by_month: tuple[tuple[str, Figures], ...]
    workflow: tuple[tuple[str, int], ...]
