"""An in-memory `PeopleStore` for unit tests; same contract as the SQL one."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.people import CaseAccess, Role, Session, User


class MemoryPeopleStore:
    """Dictionaries behind a lock; nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, User] = {}
        self._hashes: dict[int, str] = {}
        self._sessions: dict[str, Session] = {}
        self._access: dict[tuple[int, int], CaseAccess] = {}
        self._preferences: dict[int, dict[str, str]] = {}

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
        with self._lock:
            if any(u.username == username for u in self._users.values()):
                raise StorageError(f"user {username!r} already exists")
            user = User(
                len(self._users) + 1,
                username,
                display_name,
                frozenset(roles),
                created_at,
                force_code=force_code,
            )
            self._users[user.user_id] = user
            self._hashes[user.user_id] = password_hash
            return user

    def user_by_name(self, username: str) -> User:
        """The user with this (normalised) name."""
        for user in self._users.values():
            if user.username == username:
                return user
        raise NotFoundError(f"no user {username!r}")

    def user_by_id(self, user_id: int) -> User:
        """The user with this id."""
        try:
            return self._users[user_id]
        except KeyError:
            raise NotFoundError(f"no user with id {user_id}") from None

    def all_users(self) -> list[User]:
        """Every user, by name."""
        return sorted(self._users.values(), key=lambda u: u.username)

    def password_hash(self, user_id: int) -> str:
        """The user's stored password hash."""
        self.user_by_id(user_id)
        return self._hashes[user_id]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the user's password hash."""
        self.user_by_id(user_id)
        self._hashes[user_id] = password_hash

    def _update(self, user_id: int, **changes: object) -> User:
        with self._lock:
            user = replace(self.user_by_id(user_id), **changes)  # type: ignore[arg-type]
            self._users[user_id] = user
            return user

    def set_disabled(self, user_id: int, disabled: bool) -> User:
        """Disable or re-enable an account."""
        return self._update(user_id, disabled=disabled)

    def set_roles(self, user_id: int, roles: Iterable[Role], force_code: str | None) -> User:
        """Replace the user's roles and force."""
        return self._update(user_id, roles=frozenset(roles), force_code=force_code)

    def set_sign_in_state(
        self, user_id: int, failed_attempts: int, locked_until: datetime | None
    ) -> User:
        """Record the count of consecutive failures and any lock-out."""
        return self._update(user_id, failed_attempts=failed_attempts, locked_until=locked_until)

    def add_session(self, session: Session) -> None:
        """Store a new session."""
        self.user_by_id(session.user_id)
        self._sessions[session.token_hash] = session

    def session(self, token_hash: str) -> Session | None:
        """The session with this token hash, or None."""
        return self._sessions.get(token_hash)

    def touch_session(self, token_hash: str, at: datetime) -> None:
        """Move the session's last-seen time (idle timeout)."""
        with self._lock:
            found = self._sessions.get(token_hash)
            if found is not None:
                self._sessions[token_hash] = replace(found, last_seen_at=at)

    def remove_session(self, token_hash: str) -> None:
        """End one session (no error when it is gone)."""
        self._sessions.pop(token_hash, None)

    def remove_sessions_of(self, user_id: int) -> int:
        """End every session of a user; returns how many were ended."""
        with self._lock:
            gone = [h for h, s in self._sessions.items() if s.user_id == user_id]
            for token_hash in gone:
                del self._sessions[token_hash]
            return len(gone)

    def grant_case_access(self, access: CaseAccess) -> None:
        """Put a user on a case's access list (idempotent)."""
        self.user_by_id(access.user_id)
        self._access.setdefault((access.case_id, access.user_id), access)

    def revoke_case_access(self, case_id: int, user_id: int) -> None:
        """Take a user off a case's access list (no error when absent)."""
        self._access.pop((case_id, user_id), None)

    def case_access(self, case_id: int) -> list[CaseAccess]:
        """The case's access list, oldest grant first."""
        return [a for (c, _u), a in self._access.items() if c == case_id]

    def cases_of(self, user_id: int) -> set[int]:
        """Ids of the cases the user is on the access list of."""
        return {c for (c, u) in self._access if u == user_id}

    def preferences(self, user_id: int) -> dict[str, str]:
        """The user's stored preferences (empty when none were set)."""
        return dict(self._preferences.get(user_id, {}))

    def set_preferences(self, user_id: int, values: Mapping[str, str]) -> None:
        """Set (insert or replace) some of the user's preferences."""
        self.user_by_id(user_id)
        self._preferences.setdefault(user_id, {}).update(values)
