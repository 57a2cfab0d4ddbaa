"""The port for users, sessions, per-case access lists and per-user preferences."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from safeguard.domain.people import CaseAccess, Role, Session, User


class PeopleStore(Protocol):
    """Where accounts and sessions live.

    Lookups of a missing user raise `NotFoundError`; a duplicate user name raises
    `StorageError`. Password hashes are kept apart from `User` values so they are never
    handed around with them.
    """

    def create_user(
        self,
        username: str,
        display_name: str,
        roles: Iterable[Role],
        force_code: str | None,
        password_hash: str,
        created_at: datetime,
    ) -> User:
        """Add an account; `username` is stored as given (callers normalise it)."""
        ...

    def user_by_name(self, username: str) -> User:
        """The user with this (normalised) name."""
        ...

    def user_by_id(self, user_id: int) -> User:
        """The user with this id."""
        ...

    def all_users(self) -> list[User]:
        """Every user, by name."""
        ...

    def password_hash(self, user_id: int) -> str:
        """The user's stored password hash."""
        ...

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the user's password hash."""
        ...

    def set_disabled(self, user_id: int, disabled: bool) -> User:
        """Disable or re-enable an account."""
        ...

    def set_roles(self, user_id: int, roles: Iterable[Role], force_code: str | None) -> User:
        """Replace the user's roles and force."""
        ...

    def set_sign_in_state(
        self, user_id: int, failed_attempts: int, locked_until: datetime | None
    ) -> User:
        """Record the count of consecutive failures and any lock-out."""
        ...

    def add_session(self, session: Session) -> None:
        """Store a new session."""
        ...

    def session(self, token_hash: str) -> Session | None:
        """The session with this token hash, or None."""
        ...

    def touch_session(self, token_hash: str, at: datetime) -> None:
        """Move the session's last-seen time (idle timeout)."""
        ...

    def remove_session(self, token_hash: str) -> None:
        """End one session (no error when it is gone)."""
        ...

    def remove_sessions_of(self, user_id: int) -> int:
        """End every session of a user; returns how many were ended."""
        ...

    def grant_case_access(self, access: CaseAccess) -> None:
        """Put a user on a case's access list (idempotent)."""
        ...

    def revoke_case_access(self, case_id: int, user_id: int) -> None:
        """Take a user off a case's access list (no error when absent)."""
        ...

    def case_access(self, case_id: int) -> list[CaseAccess]:
        """The case's access list, oldest grant first."""
        ...

    def cases_of(self, user_id: int) -> set[int]:
        """Ids of the cases the user is on the access list of."""
        ...

    def preferences(self, user_id: int) -> dict[str, str]:
        """The user's stored preferences (empty when none were set)."""
        ...

    def set_preferences(self, user_id: int, values: Mapping[str, str]) -> None:
        """Set (insert or replace) some of the user's preferences."""
        ...
