"""Per-case access lists: only users on a case's list see anything of it."""

from __future__ import annotations

from datetime import UTC, datetime

from safeguard.domain.people import CaseAccess, User, normalise_username
from safeguard.services.people.audit import AuditSink, Clock
from safeguard.storage.people_store import PeopleStore


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CaseAccessService:
    """Grants, revocations (audited) and the check every case route makes."""

    def __init__(self, store: PeopleStore, audit: AuditSink, clock: Clock = _utc_now) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock

    def grant(self, case_id: int, username: str, *, actor: str) -> CaseAccess:
        """Put the user on the case's access list.

        Raises:
            NotFoundError: no such user or case.
        """
        user = self._store.user_by_name(normalise_username(username))
        access = CaseAccess(case_id, user.user_id, actor, self._clock())
        self._store.grant_case_access(access)
        self._audit(actor, "case.access-granted", case_id=case_id, detail={"user": user.username})
        return access

    def revoke(self, case_id: int, username: str, *, actor: str) -> None:
        """Take the user off the case's access list."""
        user = self._store.user_by_name(normalise_username(username))
        self._store.revoke_case_access(case_id, user.user_id)
        self._audit(actor, "case.access-revoked", case_id=case_id, detail={"user": user.username})

    def access_list(self, case_id: int) -> list[tuple[CaseAccess, User]]:
        """The case's access list with each user."""
        return [(a, self._store.user_by_id(a.user_id)) for a in self._store.case_access(case_id)]

    def allows(self, user: User, case_id: int) -> bool:
        """True when `user` is enabled and on the case's access list."""
        return not user.disabled and case_id in self._store.cases_of(user.user_id)

    def cases_of(self, user: User) -> set[int]:
        """Ids of the cases the user may open (none for a disabled user)."""
        return set() if user.disabled else self._store.cases_of(user.user_id)
