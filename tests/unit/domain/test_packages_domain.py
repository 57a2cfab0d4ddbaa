from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safeguard.domain.errors import AccessDeniedError, InputError
from safeguard.domain.package_content import Handling, ReferralLine, handling_for
from safeguard.domain.packages import (
    TRANSITIONS,
    DeadlinePolicy,
    PackageAction,
    PackageState,
    check_four_eyes,
    next_state,
)

T = datetime(2026, 1, 1, tzinfo=UTC)


def test_default_deadlines_by_band() -> None:
    policy = DeadlinePolicy()
    assert policy.due(T, "Very High") - T == timedelta(hours=24)
    assert policy.due(T, "High") - T == timedelta(hours=72)
    assert policy.due(T, "Medium") - T == timedelta(days=14)
    assert policy.due(T, "Low") - T == timedelta(days=28)
    assert policy.describe("Very High") == "action within 24 hours of dissemination"
    assert policy.describe("Medium") == "action within 14 days of dissemination"


def test_deadlines_are_configurable_and_checked() -> None:
    policy = DeadlinePolicy.from_hours("12, 48, 240, 480")
    assert policy.window("Very High") == timedelta(hours=12)
    assert policy.window("unknown band") == timedelta(hours=480)
    for bad in ("1,2,3", "a,b,c,d", "0,1,2,3"):
        with pytest.raises(InputError):
            DeadlinePolicy.from_hours(bad)


def test_state_machine_allows_only_its_transitions() -> None:
    assert next_state(PackageState.DRAFT, PackageAction.APPROVE) is PackageState.APPROVED
    assert next_state(PackageState.RETURNED, PackageAction.REVISE) is PackageState.DRAFT
    with pytest.raises(InputError, match="cannot send a package that is draft"):
        next_state(PackageState.DRAFT, PackageAction.SEND)
    for state in PackageState:
        for action in PackageAction:
            if (state, action) not in TRANSITIONS:
                with pytest.raises(InputError):
                    next_state(state, action)
    assert not any(state is PackageState.CLOSED for state, _ in TRANSITIONS)


def test_four_eyes() -> None:
    check_four_eyes("sue", {"ana"})
    with pytest.raises(AccessDeniedError):
        check_four_eyes("ana", {"ana", "andy"})


def _referral(code: str, conditions: str = "") -> ReferralLine:
    return ReferralLine("R", "src", "2026-01-01", "1", "A", code, conditions)


def test_handling_is_the_strictest_of_the_referrals() -> None:
    assert handling_for((_referral("P"), _referral("P"))) == Handling("P")
    handling = handling_for(
        (_referral("P"), _referral("C", "no onward sharing"), _referral("C", "no onward sharing"))
    )
    assert handling == Handling("C", ("no onward sharing",))
    assert "no onward sharing" in handling.banner
    assert handling.banner.startswith("Handling code C")
