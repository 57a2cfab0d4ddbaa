"""Who may see and do what with packages: national roles see all, a force only its own.

A force's users see a package only once it has been disseminated to their force; for any
other package the answer is "not found", exactly as for a package that does not exist, so
neither a listing, a direct URL nor an API call tells them it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safeguard.domain.errors import NotFoundError
from safeguard.domain.forces import force_by_key
from safeguard.domain.packages import VISIBLE_TO_FORCES, Package, PackageAction
from safeguard.domain.people import User


class PackageRole(StrEnum):
    """Roles of the people in the package loop."""

    NATIONAL_ANALYST = "national-analyst"
    NATIONAL_SUPERVISOR = "national-supervisor"
    FORCE_CONTACT = "force-contact"
    FORCE_OFFICER = "force-officer"
    AUDITOR = "auditor"


_ROLE_VALUES = frozenset(
    {"national-analyst", "national-supervisor", "force-contact", "force-officer", "auditor"}
)

NATIONAL_ROLES = frozenset(
    {PackageRole.NATIONAL_ANALYST, PackageRole.NATIONAL_SUPERVISOR, PackageRole.AUDITOR}
)

ALLOWED_ACTIONS: dict[PackageRole, frozenset[PackageAction]] = {
    PackageRole.NATIONAL_ANALYST: frozenset({PackageAction.REVISE, PackageAction.SEND}),
    PackageRole.NATIONAL_SUPERVISOR: frozenset(
        {PackageAction.REVISE, PackageAction.APPROVE, PackageAction.SEND, PackageAction.CLOSE}
    ),
    PackageRole.FORCE_CONTACT: frozenset(
        {
            PackageAction.ACKNOWLEDGE,
            PackageAction.RETURN,
            PackageAction.ACTION,
            PackageAction.CLOSE,
        }
    ),
    PackageRole.FORCE_OFFICER: frozenset({PackageAction.ACTION}),
    PackageRole.AUDITOR: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person as the package loop sees them.

    Attributes:
        name: the user name written to the audit log.
        roles: their package roles.
        force: their force key (force roles only; "" for national staff).
    """

    name: str
    roles: frozenset[PackageRole]
    force: str = ""

    @property
    def national(self) -> bool:
        """True for national analysts, supervisors and auditors."""
        return bool(self.roles & NATIONAL_ROLES)

    def has(self, role: PackageRole) -> bool:
        """True when the viewer holds `role`."""
        return role in self.roles

    def can_see(self, package: Package) -> bool:
        """National staff see every package; a force only its own, once disseminated."""
        if self.national:
            return True
        return (
            bool(self.force)
            and package.destination == self.force
            and package.state in VISIBLE_TO_FORCES
        )

    def may(self, action: PackageAction) -> bool:
        """True when one of the viewer's roles allows `action`."""
        return any(action in ALLOWED_ACTIONS[role] for role in self.roles)

    @property
    def can_build(self) -> bool:
        """National analysts and supervisors build packages."""
        return bool(self.roles & {PackageRole.NATIONAL_ANALYST, PackageRole.NATIONAL_SUPERVISOR})

    @property
    def can_record_outcomes(self) -> bool:
        """A force's contact and officers report outcomes."""
        return bool(self.roles & {PackageRole.FORCE_CONTACT, PackageRole.FORCE_OFFICER})


def viewer_of(user: User) -> Viewer:
    """The package loop's view of a signed-in user: their package roles and force key.

    A force code may be the force's key or its ONS PFA code; an unknown code leaves the
    user with no force, so they see nothing.
    """
    roles = frozenset(PackageRole(r.value) for r in user.roles if r.value in _ROLE_VALUES)
    if user.disabled:
        roles = frozenset()
    force = ""
    if user.force_code:
        try:
            force = force_by_key(user.force_code).key
        except NotFoundError:
            force = ""
    return Viewer(user.actor, roles, force)
