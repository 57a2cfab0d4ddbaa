"""Conformance suite every `PeopleStore` passes (memory fake, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.people import CaseAccess, Role, Session
from safeguard.storage.people_store import PeopleStore

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class PeopleStoreContract:
    """Subclasses provide `store` and `case_ids` (ids of two existing cases)."""

    @pytest.fixture
    def store(self) -> PeopleStore:
        raise NotImplementedError

    @pytest.fixture
    def case_ids(self) -> tuple[int, int]:
        raise NotImplementedError

    def test_user_round_trip(self, store: PeopleStore) -> None:
        user = store.create_user(
            "kim", "Kim Example", [Role.FORCE_CONTACT], "E23000001", "$argon2id$x", T0
        )
        assert store.user_by_name("kim") == user
        assert store.user_by_id(user.user_id) == user
        assert user.roles == frozenset({Role.FORCE_CONTACT})
        assert user.force_code == "E23000001"
        assert user.created_at == T0
        assert not user.disabled
        assert store.password_hash(user.user_id) == "$argon2id$x"
        store.set_password_hash(user.user_id, "$argon2id$y")
        assert store.password_hash(user.user_id) == "$argon2id$y"
        assert [u.username for u in store.all_users()] == ["kim"]

    def test_duplicates_and_missing(self, store: PeopleStore) -> None:
        store.create_user("kim", "Kim", [Role.EXAMINER], None, "h", T0)
        with pytest.raises(StorageError):
            store.create_user("kim", "Other", [Role.EXAMINER], None, "h", T0)
        with pytest.raises(NotFoundError):
            store.user_by_name("nobody")
        with pytest.raises(NotFoundError):
            store.user_by_id(999)
        with pytest.raises(NotFoundError):
            store.set_disabled(999, True)

    def test_disable_roles_and_sign_in_state(self, store: PeopleStore) -> None:
        user = store.create_user("kim", "Kim", [Role.EXAMINER], None, "h", T0)
        assert store.set_disabled(user.user_id, True).disabled
        assert not store.set_disabled(user.user_id, False).disabled
        changed = store.set_roles(user.user_id, [Role.AUDITOR, Role.EXAMINER], None)
        assert changed.roles == {Role.AUDITOR, Role.EXAMINER}
        locked = store.set_sign_in_state(user.user_id, 5, T0 + timedelta(minutes=15))
        assert locked.failed_attempts == 5
        assert locked.locked_until == T0 + timedelta(minutes=15)
        assert store.set_sign_in_state(user.user_id, 0, None).locked_until is None

    def test_sessions(self, store: PeopleStore) -> None:
        user = store.create_user("kim", "Kim", [Role.EXAMINER], None, "h", T0)
        other = store.create_user("lee", "Lee", [Role.EXAMINER], None, "h", T0)
        first = Session("a" * 64, user.user_id, "csrf1", T0, T0)
        store.add_session(first)
        store.add_session(Session("b" * 64, user.user_id, "csrf2", T0, T0))
        store.add_session(Session("c" * 64, other.user_id, "csrf3", T0, T0))
        assert store.session("a" * 64) == first
        assert store.session("d" * 64) is None
        store.touch_session("a" * 64, T0 + timedelta(minutes=5))
        touched = store.session("a" * 64)
        assert touched is not None
        assert touched.last_seen_at == T0 + timedelta(minutes=5)
        store.remove_session("a" * 64)
        store.remove_session("a" * 64)
        assert store.session("a" * 64) is None
        assert store.remove_sessions_of(user.user_id) == 1
        assert store.session("c" * 64) is not None

    def test_case_access_lists(self, store: PeopleStore, case_ids: tuple[int, int]) -> None:
        one, two = case_ids
        kim = store.create_user("kim", "Kim", [Role.EXAMINER], None, "h", T0)
        lee = store.create_user("lee", "Lee", [Role.EXAMINER], None, "h", T0)
        store.grant_case_access(CaseAccess(one, kim.user_id, "admin", T0))
        store.grant_case_access(CaseAccess(one, kim.user_id, "admin", T0))
        store.grant_case_access(CaseAccess(one, lee.user_id, "admin", T0 + timedelta(1)))
        store.grant_case_access(CaseAccess(two, lee.user_id, "admin", T0))
        assert [a.user_id for a in store.case_access(one)] == [kim.user_id, lee.user_id]
        assert store.cases_of(kim.user_id) == {one}
        assert store.cases_of(lee.user_id) == {one, two}
        store.revoke_case_access(one, lee.user_id)
        store.revoke_case_access(one, lee.user_id)
        assert store.cases_of(lee.user_id) == {two}
        with pytest.raises(NotFoundError):
            store.grant_case_access(CaseAccess(one, 999, "admin", T0))

    def test_preferences(self, store: PeopleStore) -> None:
        kim = store.create_user("kim", "Kim", [Role.EXAMINER], None, "h", T0)
        assert store.preferences(kim.user_id) == {}
        store.set_preferences(kim.user_id, {"blur": "12", "greyscale": "1"})
        store.set_preferences(kim.user_id, {"blur": "20"})
        assert store.preferences(kim.user_id) == {"blur": "20", "greyscale": "1"}
