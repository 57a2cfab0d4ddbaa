"""Sign-in, server-side sessions, CSRF secrets, lock-out after repeated failures, sign-out.

The browser holds one opaque random session id (256 bits); the store keeps only its
SHA-256, the user, a per-session CSRF secret and two times. A session ends when the user
signs out, after `SessionPolicy.idle` without a request, after `SessionPolicy.max_age` in
all, or at once when the account is disabled or its roles or password change.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from safeguard.domain.errors import AccessDeniedError, NotFoundError
from safeguard.domain.people import Session, User, normalise_username
from safeguard.services.people.audit import AuditSink, Clock
from safeguard.services.people.passwords import Passwords
from safeguard.storage.people_store import PeopleStore

# A session's last-seen time is written at most this often (one write per minute, not per request).
_TOUCH_EVERY = timedelta(seconds=60)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    """How a session id is stored: its SHA-256 hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SignInRefusedError(AccessDeniedError):
    """Wrong name or password, a disabled account, or a lock-out.

    The message is the same for each, so it never tells whether a user name exists.
    """

    def __init__(self) -> None:
        super().__init__("sign-in refused: check the user name and password, or ask an admin")


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long sessions live and when repeated failures lock an account.

    Attributes:
        idle: a session unused this long has ended.
        max_age: a session this old has ended, however busy.
        max_failures: consecutive failed sign-ins that lock the account.
        lockout: how long a locked account refuses every sign-in.
    """

    idle: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=12)
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A signed-in user with their session; `token` is set only right after sign-in."""

    user: User
    session: Session
    token: str = ""

    @property
    def csrf_token(self) -> str:
        """The secret this session's forms must echo."""
        return self.session.csrf_token

    def csrf_ok(self, presented: str | None) -> bool:
        """Constant-time check of a form's CSRF field against the session's secret."""
        return bool(presented) and hmac.compare_digest(
            str(presented).encode(), self.session.csrf_token.encode()
        )


class SignInService:
    """Checks passwords, issues and resolves sessions, and audits every sign-in and failure."""

    def __init__(
        self,
        store: PeopleStore,
        passwords: Passwords,
        audit: AuditSink,
        policy: SessionPolicy | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._audit = audit
        self._policy = policy or SessionPolicy()
        self._clock = clock

    @property
    def policy(self) -> SessionPolicy:
        """The session and lock-out policy in force."""
        return self._policy

    def sign_in(self, username: str, password: str) -> SignedIn:
        """Check the password and open a session.

        Raises:
            SignInRefusedError: unknown user, wrong password, disabled or locked account
                (audited, with the reason, under the name that was tried).
        """
        name = normalise_username(username)[:100]
        now = self._clock()
        try:
            user: User | None = self._store.user_by_name(name)
        except NotFoundError:
            user = None
        stored = self._store.password_hash(user.user_id) if user is not None else None
        # The hash is checked in every case so that timing does not tell the cases apart.
        matches = self._passwords.verify(stored, password)
        if user is None:
            self._refuse(name, "unknown user")
        assert user is not None
        if user.is_locked(now):
            self._refuse(name, "locked")
        if user.disabled:
            self._refuse(name, "disabled")
        if not matches:
            self._fail(user, now)
        if user.failed_attempts or user.locked_until:
            user = self._store.set_sign_in_state(user.user_id, 0, None)
        if stored is not None and self._passwords.needs_rehash(stored):
            self._store.set_password_hash(user.user_id, self._passwords.hash(password))
        token = secrets.token_urlsafe(32)
        session = Session(token_hash(token), user.user_id, secrets.token_urlsafe(32), now, now)
        self._store.add_session(session)
        self._audit(user.actor, "user.signed-in", detail={"user": user.username})
        return SignedIn(user, session, token)

    def _refuse(self, name: str, reason: str) -> None:
        self._audit(f"user:{name}", "user.sign-in-failed", detail={"user": name, "reason": reason})
        raise SignInRefusedError()

    def _fail(self, user: User, now: datetime) -> None:
        failures = user.failed_attempts + 1
        locked_until = now + self._policy.lockout if failures >= self._policy.max_failures else None
        self._store.set_sign_in_state(user.user_id, failures, locked_until)
        if locked_until is not None:
            self._audit(
                user.actor,
                "user.locked-out",
                detail={"user": user.username, "failures": str(failures)},
            )
        self._refuse(user.username, "wrong password")

    def resolve(self, token: str | None) -> SignedIn | None:
        """The signed-in user for a cookie's session id; None when absent, ended or expired."""
        if not token or len(token) > 200:
            return None
        hashed = token_hash(token)
        session = self._store.session(hashed)
        if session is None:
            return None
        now = self._clock()
        expired = (
            now - session.last_seen_at > self._policy.idle
            or now - session.created_at > self._policy.max_age
        )
        try:
            user = self._store.user_by_id(session.user_id)
        except NotFoundError:
            user = None
        if expired or user is None or user.disabled:
            self._store.remove_session(hashed)
            return None
        if now - session.last_seen_at > _TOUCH_EVERY:
            self._store.touch_session(hashed, now)
        return SignedIn(user, session)

    def sign_out(self, token: str | None) -> None:
        """End the session (audited); nothing happens for an unknown id."""
        current = self.resolve(token)
        if token:
            self._store.remove_session(token_hash(token))
        if current is not None:
            self._audit(
                current.user.actor, "user.signed-out", detail={"user": current.user.username}
            )
