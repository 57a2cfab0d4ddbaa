"""People and access: users, their roles and force, sessions, and per-case access lists.

Who may see what is decided from these values alone (no store lookups), so routes and
services check access the same way:

- `User.has_role(...)`: the user holds one of the roles (a disabled user holds none).
- `User.sees_force(code)`: national and audit roles see every force; a force contact or
  officer sees only their own force's work.
- A forensic case is seen only by the users on its access list (`CaseAccess`); roles say
  what they may do there (examiners grade, auditors read the audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a person does in the system; a user holds one or more."""

    NATIONAL_ANALYST = "national-analyst"
    NATIONAL_SUPERVISOR = "national-supervisor"
    FORCE_CONTACT = "force-contact"
    FORCE_OFFICER = "force-officer"
    AUDITOR = "auditor"
    EXAMINER = "examiner"
    PLATFORM_REVIEWER = "platform-reviewer"
    ADMIN = "admin"


FORCE_ROLES = frozenset({Role.FORCE_CONTACT, Role.FORCE_OFFICER})
"""Roles tied to one police force: a user holding one must have a force code."""

NATIONAL_ROLES = frozenset({Role.NATIONAL_ANALYST, Role.NATIONAL_SUPERVISOR})
"""Roles of the national unit: they see every force's work."""


def normalise_username(username: str) -> str:
    """The stored form of a user name: trimmed and lower-case (sign-in is case-insensitive)."""
    return username.strip().lower()


@dataclass(frozen=True, slots=True)
class User:
    """A person who signs in.

    Attributes:
        user_id: the store's id.
        username: unique, lower-case sign-in name.
        display_name: how pages and audit lines name the person.
        roles: what the person does.
        force_code: the police force (e.g. an ONS force-area code) for force roles; None
            for national, examiner, auditor and admin users.
        disabled: a disabled user cannot sign in and holds no role.
        created_at: when the account was made.
        failed_attempts: consecutive failed sign-ins since the last success.
        locked_until: sign-in refused until then, after too many failures; None if not locked.
    """

    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    created_at: datetime
    force_code: str | None = None
    disabled: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = None

    def has_role(self, *roles: Role) -> bool:
        """True when the user is enabled and holds at least one of `roles`."""
        return not self.disabled and not self.roles.isdisjoint(roles)

    @property
    def is_force_user(self) -> bool:
        """True for force contacts and officers: their view is limited to their force."""
        return not self.roles.isdisjoint(FORCE_ROLES)

    def sees_force(self, force_code: str | None) -> bool:
        """Whether this user may see work routed to `force_code`.

        Force users see only their own force (never work with no force); everyone else
        who is enabled sees every force. Role checks come on top of this.
        """
        if self.disabled:
            return False
        if self.is_force_user:
            return force_code is not None and force_code == self.force_code
        return True

    @property
    def actor(self) -> str:
        """How audit lines name this user."""
        return f"user:{self.username}"

    def is_locked(self, now: datetime) -> bool:
        """True while sign-in is refused after repeated failures."""
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser session, stored server-side.

    The browser holds only the opaque session id; the store keeps its SHA-256
    (`token_hash`), so a copy of the database does not let anyone sign in.

    Attributes:
        token_hash: SHA-256 hex of the session id in the cookie.
        user_id: who signed in.
        csrf_token: the secret every state-changing form of this session must echo.
        created_at: when the user signed in (the absolute lifetime counts from here).
        last_seen_at: the last request (the idle timeout counts from here).
    """

    token_hash: str
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class CaseAccess:
    """One line of a case's access list: this user may open this case."""

    case_id: int
    user_id: int
    granted_by: str
    granted_at: datetime
