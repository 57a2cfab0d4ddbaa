"""People and access: passwords, accounts, sign-in sessions and per-case access lists."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.bootstrap.cases import CaseWiring

if TYPE_CHECKING:
    from safeguard.services.people.accounts import UserAdministration
    from safeguard.services.people.case_access import CaseAccessService
    from safeguard.services.people.passwords import Passwords
    from safeguard.services.people.sign_in import SignInService


class PeopleWiring(CaseWiring):
    """Adds accounts, sign-in and case access, audited in the case service's log."""

    @cached_property
    def passwords(self) -> Passwords:
        """Argon2id password hashing at the settings' cost."""
        from safeguard.services.people.passwords import PasswordPolicy, Passwords

        return Passwords(
            PasswordPolicy(
                time_cost=self.settings.password_time_cost,
                memory_kib=self.settings.password_memory_kib,
            )
        )

    @cached_property
    def users(self) -> UserAdministration:
        """Creating, disabling and changing accounts (audited)."""
        from safeguard.services.people.accounts import UserAdministration

        return UserAdministration(self.people_store, self.passwords, self.case_service.audit)

    @cached_property
    def sign_in(self) -> SignInService:
        """Sign-in, sessions and lock-out for the web interface."""
        from datetime import timedelta

        from safeguard.services.people.sign_in import SessionPolicy, SignInService

        policy = SessionPolicy(
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            max_age=timedelta(hours=self.settings.session_max_hours),
            max_failures=self.settings.sign_in_max_failures,
            lockout=timedelta(minutes=self.settings.sign_in_lockout_minutes),
        )
        return SignInService(self.people_store, self.passwords, self.case_service.audit, policy)

    @cached_property
    def case_access(self) -> CaseAccessService:
        """Per-case access lists."""
        from safeguard.services.people.case_access import CaseAccessService

        return CaseAccessService(self.people_store, self.case_service.audit)
