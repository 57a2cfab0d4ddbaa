from __future__ import annotations

import pytest

from safeguard.domain.errors import InputError, StorageError
from safeguard.domain.people import Role
from safeguard.services.people.passwords import Passwords
from safeguard.services.people.sign_in import SignInRefusedError, token_hash
from tests.unit.services.people.people_stack import FAST, PASSWORD, PeopleStack, people_stack


@pytest.fixture
def stack() -> PeopleStack:
    return people_stack()


def test_passwords_are_argon2id_and_checked() -> None:
    passwords = Passwords(FAST)
    stored = passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "x")
    assert not passwords.verify(None, PASSWORD)
    assert not passwords.verify("not a hash", PASSWORD)
    with pytest.raises(InputError, match="at least 12"):
        passwords.hash("short")


def test_create_validates_names_roles_and_force(stack: PeopleStack) -> None:
    user = stack.users.create(
        " Kim.Example ", PASSWORD, [Role.FORCE_CONTACT], force_code="e23000001", actor="t"
    )
    assert user.username == "kim.example"
    assert user.force_code == "E23000001"
    assert stack.store.password_hash(user.user_id).startswith("$argon2id$")
    with pytest.raises(StorageError):
        stack.users.create("KIM.EXAMPLE", PASSWORD, [Role.EXAMINER], actor="t")
    with pytest.raises(InputError, match="force code"):
        stack.users.create("officer", PASSWORD, [Role.FORCE_OFFICER], actor="t")
    with pytest.raises(InputError, match="only force"):
        stack.users.create("analyst", PASSWORD, [Role.NATIONAL_ANALYST], force_code="X", actor="t")
    with pytest.raises(InputError, match="at least one role"):
        stack.users.create("nobody", PASSWORD, [], actor="t")
    with pytest.raises(InputError, match="user name"):
        stack.users.create("a b", PASSWORD, [Role.EXAMINER], actor="t")
    assert stack.audit.actions() == ["user.created"]


def test_sign_in_session_and_sign_out(stack: PeopleStack) -> None:
    stack.users.create("kim", PASSWORD, [Role.EXAMINER], actor="t")
    signed = stack.sign_in.sign_in("KIM", PASSWORD)
    assert len(signed.token) >= 40
    # Only the token's hash is stored.
    assert stack.store.session(token_hash(signed.token)) is not None
    assert stack.store.session(signed.token) is None
    again = stack.sign_in.resolve(signed.token)
    assert again is not None
    assert again.user.username == "kim"
    assert again.csrf_ok(signed.csrf_token)
    assert not again.csrf_ok("wrong")
    assert not again.csrf_ok(None)
    assert stack.sign_in.resolve("forged") is None
    stack.sign_in.sign_out(signed.token)
    assert stack.sign_in.resolve(signed.token) is None
    assert stack.audit.actions()[-2:] == ["user.signed-in", "user.signed-out"]


def test_sessions_end_when_idle_too_old_or_disabled(stack: PeopleStack) -> None:
    stack.users.create("kim", PASSWORD, [Role.EXAMINER], actor="t")
    idle = stack.sign_in.sign_in("kim", PASSWORD)
    stack.clock.advance(minutes=29)
    assert stack.sign_in.resolve(idle.token) is not None
    stack.clock.advance(minutes=29)
    assert stack.sign_in.resolve(idle.token) is not None  # touched 29 minutes ago
    stack.clock.advance(minutes=31)
    assert stack.sign_in.resolve(idle.token) is None
    busy = stack.sign_in.sign_in("kim", PASSWORD)
    for _ in range(13 * 2):
        stack.clock.advance(minutes=29)
        stack.sign_in.resolve(busy.token)
    assert stack.sign_in.resolve(busy.token) is None  # over 12 hours in all
    fresh = stack.sign_in.sign_in("kim", PASSWORD)
    stack.users.disable("kim", actor="admin")
    assert stack.sign_in.resolve(fresh.token) is None
    with pytest.raises(SignInRefusedError):
        stack.sign_in.sign_in("kim", PASSWORD)


def test_lock_out_after_repeated_failures_is_audited(stack: PeopleStack) -> None:
    stack.users.create("kim", PASSWORD, [Role.EXAMINER], actor="t")
    for _ in range(5):
        with pytest.raises(SignInRefusedError) as refused:
            stack.sign_in.sign_in("kim", "wrong password!")
    assert "kim" not in str(refused.value)
    assert stack.users.find("kim").locked_until is not None
    # Locked: even the right password is refused, with the same message.
    with pytest.raises(SignInRefusedError):
        stack.sign_in.sign_in("kim", PASSWORD)
    stack.clock.advance(minutes=16)
    assert stack.sign_in.sign_in("kim", PASSWORD).user.failed_attempts == 0
    failures = [line for line in stack.audit.lines if line[1] == "user.sign-in-failed"]
    assert [f[3]["reason"] for f in failures] == ["wrong password"] * 5 + ["locked"]
    assert "user.locked-out" in stack.audit.actions()
    assert all("password" not in key for f in failures for key in f[3])
    with pytest.raises(SignInRefusedError):
        stack.sign_in.sign_in("nobody", PASSWORD)
    assert stack.audit.lines[-1][3] == {"user": "nobody", "reason": "unknown user"}


def test_unlock_and_password_change_end_sessions(stack: PeopleStack) -> None:
    stack.users.create("kim", PASSWORD, [Role.EXAMINER], actor="t")
    signed = stack.sign_in.sign_in("kim", PASSWORD)
    stack.users.set_password("kim", "another long password", actor="admin")
    assert stack.sign_in.resolve(signed.token) is None
    assert stack.sign_in.sign_in("kim", "another long password")
    stack.users.set_roles("kim", [Role.AUDITOR], None, actor="admin")
    assert stack.users.find("kim").roles == {Role.AUDITOR}


def test_roles_force_scoping_and_case_access(stack: PeopleStack) -> None:
    contact = stack.users.create(
        "kent", PASSWORD, [Role.FORCE_CONTACT], force_code="E23000032", actor="t"
    )
    analyst = stack.users.create("nat", PASSWORD, [Role.NATIONAL_ANALYST], actor="t")
    examiner = stack.users.create("exa", PASSWORD, [Role.EXAMINER], actor="t")
    assert contact.sees_force("E23000032")
    assert not contact.sees_force("E23000001")
    assert not contact.sees_force(None)
    assert analyst.sees_force("E23000001")
    assert analyst.has_role(Role.NATIONAL_ANALYST, Role.NATIONAL_SUPERVISOR)
    assert not analyst.has_role(Role.EXAMINER)
    assert not stack.access.allows(examiner, 7)
    stack.access.grant(7, "EXA", actor="user:admin")
    assert stack.access.allows(examiner, 7)
    assert not stack.access.allows(examiner, 8)
    assert [u.username for _a, u in stack.access.access_list(7)] == ["exa"]
    disabled = stack.users.disable("exa", actor="t")
    assert not stack.access.allows(disabled, 7)
    assert not disabled.has_role(Role.EXAMINER)
    stack.access.revoke(7, "exa", actor="user:admin")
    assert stack.store.cases_of(examiner.user_id) == set()
    granted = [line for line in stack.audit.lines if line[1].startswith("case.access")]
    assert [(g[1], g[2]) for g in granted] == [
        ("case.access-granted", 7),
        ("case.access-revoked", 7),
    ]
