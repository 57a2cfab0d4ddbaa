"""Intelligence packages as tracked items: workflow states, versions, deadlines, audit.

Workflow (each arrow one action; `TRANSITIONS` is the whole table)::

    draft --approve--> approved --send--> disseminated --acknowledge--> acknowledged
      ^                   |                   |                             |
      +------revise-------+                   +-----return (reason)---------+--> returned
      +------revise-------------------------------------------------------------+
    acknowledged --action--> actioned --close--> closed

Approval needs a second person: nobody who wrote any version of a package may approve it.
Deadlines run from dissemination by risk band; a package not yet actioned by its deadline
is overdue, and both the national unit and the force see the flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from safeguard.domain.errors import AccessDeniedError, InputError
from safeguard.domain.package_content import RISK_BANDS


class PackageState(StrEnum):
    """Where a package stands."""

    DRAFT = "draft"
    APPROVED = "approved"
    DISSEMINATED = "disseminated"
    ACKNOWLEDGED = "acknowledged"
    ACTIONED = "actioned"
    CLOSED = "closed"
    RETURNED = "returned"


class PackageAction(StrEnum):
    """What a person can do to a package."""

    REVISE = "revise"
    APPROVE = "approve"
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    RETURN = "return"
    ACTION = "action"
    CLOSE = "close"


TRANSITIONS: dict[tuple[PackageState, PackageAction], PackageState] = {
    (PackageState.DRAFT, PackageAction.REVISE): PackageState.DRAFT,
    (PackageState.APPROVED, PackageAction.REVISE): PackageState.DRAFT,
    (PackageState.RETURNED, PackageAction.REVISE): PackageState.DRAFT,
    (PackageState.DRAFT, PackageAction.APPROVE): PackageState.APPROVED,
    (PackageState.APPROVED, PackageAction.SEND): PackageState.DISSEMINATED,
    (PackageState.DISSEMINATED, PackageAction.ACKNOWLEDGE): PackageState.ACKNOWLEDGED,
    (PackageState.DISSEMINATED, PackageAction.RETURN): PackageState.RETURNED,
    (PackageState.ACKNOWLEDGED, PackageAction.RETURN): PackageState.RETURNED,
    (PackageState.ACKNOWLEDGED, PackageAction.ACTION): PackageState.ACTIONED,
    (PackageState.ACTIONED, PackageAction.CLOSE): PackageState.CLOSED,
}

OPEN_AT_FORCE = frozenset({PackageState.DISSEMINATED, PackageState.ACKNOWLEDGED})
"""States in which the force still owes action, so a deadline can pass."""

VISIBLE_TO_FORCES = frozenset(
    {
        PackageState.DISSEMINATED,
        PackageState.ACKNOWLEDGED,
        PackageState.ACTIONED,
        PackageState.CLOSED,
        PackageState.RETURNED,
    }
)
"""States in which the destination force can see a package (drafts stay national)."""


def next_state(state: PackageState, action: PackageAction) -> PackageState:
    """The state `action` leads to from `state`.

    Raises:
        InputError: the action is not allowed in this state.
    """
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise InputError(f"cannot {action.value} a package that is {state.value}")
    return target


def check_four_eyes(approver: str, authors: set[str]) -> None:
    """Refuse an approval by anyone who wrote a version of the package.

    Raises:
        AccessDeniedError: the approver is one of the authors.
    """
    if approver in authors:
        raise AccessDeniedError(
            "a package must be approved by a second person: you wrote a version of it"
        )


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How long a force has to act on a package, by risk band (configurable)."""

    windows: dict[str, timedelta] = field(
        default_factory=lambda: {
            "Very High": timedelta(hours=24),
            "High": timedelta(hours=72),
            "Medium": timedelta(days=14),
            "Low": timedelta(days=28),
        }
    )

    @classmethod
    def from_hours(cls, spec: str) -> DeadlinePolicy:
        """Parse ``"24,72,336,672"``: hours for Very High, High, Medium, Low.

        Raises:
            InputError: not four positive numbers.
        """
        parts = [p.strip() for p in spec.split(",")]
        try:
            hours = [float(p) for p in parts]
        except ValueError as exc:
            raise InputError(f"deadline hours must be numbers: {spec!r}") from exc
        if len(hours) != len(RISK_BANDS) or any(h <= 0 for h in hours):
            raise InputError(f"give four positive deadline hours (VH,H,M,L), not {spec!r}")
        return cls(dict(zip(RISK_BANDS, (timedelta(hours=h) for h in hours), strict=True)))

    def window(self, band: str) -> timedelta:
        """The time allowed for `band` (an unknown band gets the longest window)."""
        return self.windows.get(band, max(self.windows.values()))

    def due(self, issued_at: datetime, band: str) -> datetime:
        """When a package of `band` issued at `issued_at` must be actioned."""
        return issued_at + self.window(band)

    def describe(self, band: str) -> str:
        """The deadline in words, e.g. ``within 24 hours of dissemination``."""
        window = self.window(band)
        hours = window.total_seconds() / 3600
        if hours <= 72:
            return f"action within {hours:g} hours of dissemination"
        return f"action within {hours / 24:g} days of dissemination"


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Where a package goes and why.

    Attributes:
        destination: force key, or a desk (`forces.NATIONAL_DESK`, `INTERNATIONAL_QUEUE`).
        method: ``postcode``, ``district``, ``override``, ``no-location``, ``outside-uk``.
        detail: what the decision rests on (postcode and district, country, ...).
        reason: an analyst's reason for an override; empty otherwise.
        decided_by: the analyst for an override; empty for automatic routing.
    """

    destination: str
    method: str
    detail: str
    reason: str = ""
    decided_by: str = ""

    @property
    def note(self) -> str:
        """One line for the package document."""
        if self.method == "override":
            return f"Routed by {self.decided_by} (override): {self.reason} [{self.detail}]"
        return f"Routed by {self.method}: {self.detail}"


@dataclass(frozen=True, slots=True)
class PackageVersion:
    """One immutable version of a package's content.

    Attributes:
        number: 1, 2, ... in order of writing.
        content_json: `PackageContent.canonical_json()` of this version.
        sha256: SHA-256 of `content_json`, recorded when the version was written.
        created_by: who wrote it.
        created_at: when.
        issued_at: when this version was disseminated (None if never issued).
        issued_html_sha256: SHA-256 of the HTML document as issued.
    """

    number: int
    content_json: bytes
    sha256: str
    created_by: str
    created_at: datetime
    issued_at: datetime | None = None
    issued_html_sha256: str = ""


@dataclass(frozen=True, slots=True)
class Package:
    """A package as tracked through the workflow (its content lives in its versions).

    Attributes:
        package_id: the store's id.
        reference: the reference people quote, e.g. ``PKG-000042``.
        subject_reference: the subject the package is about.
        band: the risk band when last revised (sets the deadline).
        routing: where it goes and why.
        state: the workflow state.
        author: who built it.
        created_at: when it was built.
        version: the current version's number.
        approved_by, approved_at: the second person's approval.
        issued_at: when it was last disseminated; `due_at`: its deadline.
        acknowledged_at, actioned_at, closed_at: the force's steps.
        returned_reason: why the force returned it (kept after revision).
        updated_at: time of the last change.
    """

    package_id: int
    reference: str
    subject_reference: str
    band: str
    routing: RoutingDecision
    state: PackageState
    author: str
    created_at: datetime
    version: int = 1
    approved_by: str = ""
    approved_at: datetime | None = None
    issued_at: datetime | None = None
    due_at: datetime | None = None
    acknowledged_at: datetime | None = None
    actioned_at: datetime | None = None
    closed_at: datetime | None = None
    returned_reason: str = ""
    updated_at: datetime | None = None

    @property
    def destination(self) -> str:
        """The force key or desk it is routed to."""
        return self.routing.destination

    def is_overdue(self, now: datetime) -> bool:
        """True when the force still owes action and the deadline has passed."""
        return self.state in OPEN_AT_FORCE and self.due_at is not None and now > self.due_at


@dataclass(frozen=True, slots=True)
class PackageTrack:
    """The few fields of a package that counts and flags need (cheap to read in bulk)."""

    package_id: int
    destination: str
    state: PackageState
    issued_at: datetime | None
    due_at: datetime | None

    def is_overdue(self, now: datetime) -> bool:
        """As `Package.is_overdue`."""
        return self.state in OPEN_AT_FORCE and self.due_at is not None and now > self.due_at


@dataclass(frozen=True, slots=True)
class PackageEvent:
    """One audit entry: every view and every change of a package (append-only).

    Attributes:
        event_id: the store's id (0 before it is stored).
        at: when.
        actor: who (a user name, ``system`` for automatic steps).
        action: ``built``, ``viewed``, ``approved``, ``denied``, ...
        package_id: the package, None for events about a list of packages.
        detail: JSON-ready details (version, format, reason, ...).
    """

    event_id: int
    at: datetime
    actor: str
    action: str
    package_id: int | None
    detail: dict[str, object] = field(default_factory=dict)
