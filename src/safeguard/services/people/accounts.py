"""Accounts: create, list, disable, change roles and passwords (the ``users`` commands)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from safeguard.domain.errors import InputError
from safeguard.domain.people import FORCE_ROLES, Role, User, normalise_username
from safeguard.services.people.audit import AuditSink, Clock
from safeguard.services.people.passwords import Passwords
from safeguard.storage.people_store import PeopleStore

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,99}")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def check_roles(
    roles: Iterable[Role], force_code: str | None
) -> tuple[frozenset[Role], str | None]:
    """Validated roles and force: force roles need a force code, others must not have one.

    Raises:
        InputError: no role, or the force code does not fit the roles.
    """
    chosen = frozenset(Role(r) for r in roles)
    code = (force_code or "").strip().upper() or None
    if not chosen:
        raise InputError("a user needs at least one role")
    if chosen & FORCE_ROLES and code is None:
        raise InputError("force contacts and force officers need a force code")
    if code is not None and not chosen & FORCE_ROLES:
        raise InputError("only force contacts and force officers have a force code")
    if chosen & FORCE_ROLES and chosen - FORCE_ROLES:
        raise InputError("a force user cannot also hold national, examiner or admin roles")
    return chosen, code


class UserAdministration:
    """Account changes, each audited with who made it."""

    def __init__(
        self,
        store: PeopleStore,
        passwords: Passwords,
        audit: AuditSink,
        clock: Clock = _utc_now,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._audit = audit
        self._clock = clock

    def create(
        self,
        username: str,
        password: str,
        roles: Iterable[Role],
        *,
        display_name: str = "",
        force_code: str | None = None,
        actor: str,
    ) -> User:
        """Make an account.

        Raises:
            InputError: bad user name, roles, force code or too short a password.
            StorageError: the user name is taken.
        """
        name = normalise_username(username)
        if not _USERNAME.fullmatch(name):
            raise InputError(
                "a user name is 2-100 characters: letters, digits and . _ @ - (starting with a "
                "letter or digit)"
            )
        chosen, code = check_roles(roles, force_code)
        password_hash = self._passwords.hash(password)
        user = self._store.create_user(
            name, display_name.strip() or name, chosen, code, password_hash, self._clock()
        )
        self._audit(
            actor,
            "user.created",
            detail={"user": name, "roles": ",".join(sorted(chosen)), "force": code or ""},
        )
        return user

    def find(self, username: str) -> User:
        """The user with this name (any case).

        Raises:
            NotFoundError: no such user.
        """
        return self._store.user_by_name(normalise_username(username))

    def all(self) -> list[User]:
        """Every account, by name."""
        return self._store.all_users()

    def disable(self, username: str, *, actor: str) -> User:
        """Disable an account and end its sessions at once."""
        user = self._store.set_disabled(self.find(username).user_id, True)
        self._store.remove_sessions_of(user.user_id)
        self._audit(actor, "user.disabled", detail={"user": user.username})
        return user

    def enable(self, username: str, *, actor: str) -> User:
        """Re-enable an account (and clear any lock-out)."""
        user = self.find(username)
        self._store.set_sign_in_state(user.user_id, 0, None)
        user = self._store.set_disabled(user.user_id, False)
        self._audit(actor, "user.enabled", detail={"user": user.username})
        return user

    def set_roles(
        self, username: str, roles: Iterable[Role], force_code: str | None, *, actor: str
    ) -> User:
        """Replace a user's roles and force; their sessions end so the change applies at once."""
        chosen, code = check_roles(roles, force_code)
        user = self._store.set_roles(self.find(username).user_id, chosen, code)
        self._store.remove_sessions_of(user.user_id)
        self._audit(
            actor,
            "user.roles-changed",
            detail={"user": user.username, "roles": ",".join(sorted(chosen)), "force": code or ""},
        )
        return user

    def set_password(self, username: str, password: str, *, actor: str) -> User:
        """Replace a password, clear any lock-out and end the user's sessions."""
        user = self.find(username)
        self._store.set_password_hash(user.user_id, self._passwords.hash(password))
        self._store.set_sign_in_state(user.user_id, 0, None)
        self._store.remove_sessions_of(user.user_id)
        self._audit(actor, "user.password-changed", detail={"user": user.username})
        return self._store.user_by_id(user.user_id)

    def unlock(self, username: str, *, actor: str) -> User:
        """Clear a lock-out after repeated failures."""
        user = self.find(username)
        user = self._store.set_sign_in_state(user.user_id, 0, None)
        self._audit(actor, "user.unlocked", detail={"user": user.username})
        return user
