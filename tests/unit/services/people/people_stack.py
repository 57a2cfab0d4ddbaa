"""People services over the in-memory store, with a clock tests move and a list of audit lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from safeguard.services.people.accounts import UserAdministration
from safeguard.services.people.case_access import CaseAccessService
from safeguard.services.people.passwords import PasswordPolicy, Passwords
from safeguard.services.people.sign_in import SessionPolicy, SignInService
from safeguard.storage.memory_people import MemoryPeopleStore

FAST = PasswordPolicy(time_cost=1, memory_kib=1024, parallelism=1)
PASSWORD = "correct horse battery"


@dataclass
class Clock:
    now: datetime = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class AuditLines:
    lines: list[tuple[str, str, int | None, dict[str, str]]] = field(default_factory=list)

    def __call__(
        self,
        actor: str,
        action: str,
        *,
        case_id: int | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> None:
        self.lines.append((actor, action, case_id, dict(detail or {})))

    def actions(self) -> list[str]:
        return [line[1] for line in self.lines]


@dataclass
class PeopleStack:
    store: MemoryPeopleStore
    clock: Clock
    audit: AuditLines
    users: UserAdministration
    sign_in: SignInService
    access: CaseAccessService


def people_stack(policy: SessionPolicy | None = None) -> PeopleStack:
    store, clock, audit = MemoryPeopleStore(), Clock(), AuditLines()
    passwords = Passwords(FAST)
    return PeopleStack(
        store,
        clock,
        audit,
        UserAdministration(store, passwords, audit, clock),
        SignInService(store, passwords, audit, policy, clock),
        CaseAccessService(store, audit, clock),
    )
