"""`PeopleStore` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.people import CaseAccess, Role, Session, User
from safeguard.storage.sql.tables_people import (
    case_access,
    user_preferences,
    user_sessions,
    users,
)
from safeguard.storage.sql.utc import aware as _aware
from safeguard.storage.sql.utc import required as _required


def _roles_text(roles: Iterable[Role]) -> str:
    return ",".join(sorted(Role(r).value for r in roles))


def _user(row: RowMapping) -> User:
    return User(
        user_id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=frozenset(Role(r) for r in row["roles"].split(",") if r),
        created_at=_required(row["created_at"]),
        force_code=row["force_code"],
        disabled=bool(row["disabled"]),
        failed_attempts=row["failed_attempts"],
        locked_until=_aware(row["locked_until"]),
    )


def _session(row: RowMapping) -> Session:
    return Session(
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        csrf_token=row["csrf_token"],
        created_at=_required(row["created_at"]),
        last_seen_at=_required(row["last_seen_at"]),
    )


class SqlPeopleStore:
    """Users, sessions and access lists in the shared database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        try:
            with self._engine.begin() as conn:
                user_id = conn.execute(
                    insert(users).values(
                        username=username,
                        display_name=display_name,
                        roles=_roles_text(roles),
                        force_code=force_code,
                        password_hash=password_hash,
                        disabled=False,
                        failed_attempts=0,
                        created_at=created_at,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError as exc:
            raise StorageError(f"user {username!r} already exists") from exc
        return self.user_by_id(int(user_id))

    def _one(self, where: object, missing: str) -> User:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(where)).mappings().first()  # type: ignore[arg-type]
        if row is None:
            raise NotFoundError(missing)
        return _user(row)

    def user_by_name(self, username: str) -> User:
        """The user with this (normalised) name."""
        return self._one(users.c.username == username, f"no user {username!r}")

    def user_by_id(self, user_id: int) -> User:
        """The user with this id."""
        return self._one(users.c.id == user_id, f"no user with id {user_id}")

    def all_users(self) -> list[User]:
        """Every user, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).mappings().all()
        return [_user(r) for r in rows]

    def password_hash(self, user_id: int) -> str:
        """The user's stored password hash."""
        with self._engine.connect() as conn:
            value = conn.execute(
                select(users.c.password_hash).where(users.c.id == user_id)
            ).scalar_one_or_none()
        if value is None:
            raise NotFoundError(f"no user with id {user_id}")
        return str(value)

    def _update(self, user_id: int, **values: object) -> None:
        with self._engine.begin() as conn:
            changed = conn.execute(update(users).where(users.c.id == user_id).values(**values))
        if changed.rowcount == 0:
            raise NotFoundError(f"no user with id {user_id}")

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the user's password hash."""
        self._update(user_id, password_hash=password_hash)

    def set_disabled(self, user_id: int, disabled: bool) -> User:
        """Disable or re-enable an account."""
        self._update(user_id, disabled=disabled)
        return self.user_by_id(user_id)

    def set_roles(self, user_id: int, roles: Iterable[Role], force_code: str | None) -> User:
        """Replace the user's roles and force."""
        self._update(user_id, roles=_roles_text(roles), force_code=force_code)
        return self.user_by_id(user_id)

    def set_sign_in_state(
        self, user_id: int, failed_attempts: int, locked_until: datetime | None
    ) -> User:
        """Record the count of consecutive failures and any lock-out."""
        self._update(user_id, failed_attempts=failed_attempts, locked_until=locked_until)
        return self.user_by_id(user_id)

    def add_session(self, session: Session) -> None:
        """Store a new session."""
        with self._engine.begin() as conn:
            conn.execute(
                insert(user_sessions).values(
                    token_hash=session.token_hash,
                    user_id=session.user_id,
                    csrf_token=session.csrf_token,
                    created_at=session.created_at,
                    last_seen_at=session.last_seen_at,
                )
            )

    def session(self, token_hash: str) -> Session | None:
        """The session with this token hash, or None."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(user_sessions).where(user_sessions.c.token_hash == token_hash))
                .mappings()
                .first()
            )
        return None if row is None else _session(row)

    def touch_session(self, token_hash: str, at: datetime) -> None:
        """Move the session's last-seen time (idle timeout)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(user_sessions)
                .where(user_sessions.c.token_hash == token_hash)
                .values(last_seen_at=at)
            )

    def remove_session(self, token_hash: str) -> None:
        """End one session (no error when it is gone)."""
        with self._engine.begin() as conn:
            conn.execute(delete(user_sessions).where(user_sessions.c.token_hash == token_hash))

    def remove_sessions_of(self, user_id: int) -> int:
        """End every session of a user; returns how many were ended."""
        with self._engine.begin() as conn:
            gone = conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id))
        return int(gone.rowcount)

    def grant_case_access(self, access: CaseAccess) -> None:
        """Put a user on a case's access list (idempotent)."""
        self.user_by_id(access.user_id)
        with self._engine.begin() as conn:
            present = conn.execute(
                select(func.count())
                .select_from(case_access)
                .where(case_access.c.case_id == access.case_id)
                .where(case_access.c.user_id == access.user_id)
            ).scalar_one()
            if present:
                return
            try:
                conn.execute(
                    insert(case_access).values(
                        case_id=access.case_id,
                        user_id=access.user_id,
                        granted_by=access.granted_by,
                        granted_at=access.granted_at,
                    )
                )
            except IntegrityError as exc:
                raise NotFoundError(f"no case with id {access.case_id}") from exc

    def revoke_case_access(self, case_id: int, user_id: int) -> None:
        """Take a user off a case's access list (no error when absent)."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(case_access)
                .where(case_access.c.case_id == case_id)
                .where(case_access.c.user_id == user_id)
            )

    def case_access(self, case_id: int) -> list[CaseAccess]:
        """The case's access list, oldest grant first."""
        with self._engine.connect() as conn:
            rows = (
                conn.execute(
                    select(case_access)
                    .where(case_access.c.case_id == case_id)
                    .order_by(case_access.c.granted_at, case_access.c.user_id)
                )
                .mappings()
                .all()
            )
        return [
            CaseAccess(r["case_id"], r["user_id"], r["granted_by"], _required(r["granted_at"]))
            for r in rows
        ]

    def cases_of(self, user_id: int) -> set[int]:
        """Ids of the cases the user is on the access list of."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(case_access.c.case_id).where(case_access.c.user_id == user_id)
            ).scalars()
            return {int(r) for r in rows}

    def preferences(self, user_id: int) -> dict[str, str]:
        """The user's stored preferences (empty when none were set)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(user_preferences.c.name, user_preferences.c.value).where(
                    user_preferences.c.user_id == user_id
                )
            ).all()
        return {str(name): str(value) for name, value in rows}

    def set_preferences(self, user_id: int, values: Mapping[str, str]) -> None:
        """Set (insert or replace) some of the user's preferences."""
        self.user_by_id(user_id)
        with self._engine.begin() as conn:
            for name, value in values.items():
                conn.execute(
                    delete(user_preferences)
                    .where(user_preferences.c.user_id == user_id)
                    .where(user_preferences.c.name == name)
                )
                conn.execute(
                    insert(user_preferences).values(user_id=user_id, name=name, value=value)
                )
