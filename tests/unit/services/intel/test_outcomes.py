"""The date of an outcome's action: not in the future, not before the package existed."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from safeguard.domain.errors import InputError
from safeguard.domain.package_outcomes import Outcome, SeizedDevice
from safeguard.services.intel.synthetic_dossiers import synthetic_dossier
from safeguard.storage.memory_cases import MemoryCaseStore
from safeguard.storage.memory_packages import MemoryPackageStore
from tests.package_support import (
    ANALYST,
    KENT_CONTACT,
    SUPERVISOR,
    T0,
    FakeClock,
    PackageDesk,
    package_desk,
)


@pytest.fixture
def desk() -> PackageDesk:
    return package_desk(MemoryPackageStore(), MemoryCaseStore())


def _acknowledged_at_kent(desk: PackageDesk) -> int:
    dossier = synthetic_dossier(1, random.Random(1), force="kent")
    package = desk.packages.build(ANALYST, desk.dossiers.add(dossier).reference)
    desk.dissemination.approve(SUPERVISOR, package.package_id)
    desk.dissemination.send(SUPERVISOR, package.package_id)
    desk.dissemination.acknowledge(KENT_CONTACT, package.package_id)
    return package.package_id


def _on(day: date) -> Outcome:
    return Outcome(0, 0, "", day, arrests=1)


def test_any_day_from_the_package_s_creation_to_today_is_accepted(desk: PackageDesk) -> None:
    package_id = _acknowledged_at_kent(desk)
    desk.clock.advance(days=3)
    for day in (T0.date(), T0.date() + timedelta(days=1), T0.date() + timedelta(days=3)):
        stored = desk.outcomes.record(KENT_CONTACT, package_id, _on(day))
        assert stored.occurred_on == day
    # A day either side: the officer's local date may be behind or ahead of UTC's.
    assert desk.outcomes.action_dates(desk.store.package(package_id)) == (
        T0.date() - timedelta(days=1),
        T0.date() + timedelta(days=4),
    )


def test_a_local_date_a_day_off_utc_is_accepted(desk: PackageDesk) -> None:
    # 00:30 in UK summer time is still yesterday in UTC: "today" typed by the officer.
    package_id = _acknowledged_at_kent(desk)
    for day in (T0.date() - timedelta(days=1), T0.date() + timedelta(days=1)):
        assert desk.outcomes.record(KENT_CONTACT, package_id, _on(day)).occurred_on == day


def test_a_date_in_the_future_is_refused_with_today_s_date(desk: PackageDesk) -> None:
    package_id = _acknowledged_at_kent(desk)
    with pytest.raises(InputError) as refused:
        desk.outcomes.record(KENT_CONTACT, package_id, _on(date(2026, 3, 4)))
    message = str(refused.value)
    assert "2026-03-04 is in the future" in message
    assert "today is 2026-03-02 UTC" in message
    assert desk.outcomes.history(KENT_CONTACT, package_id) == []


def test_a_date_before_the_package_existed_is_refused_with_both_dates(
    desk: PackageDesk,
) -> None:
    package_id = _acknowledged_at_kent(desk)
    desk.clock.advance(days=40)
    with pytest.raises(InputError) as refused:
        desk.outcomes.record(KENT_CONTACT, package_id, _on(date(2026, 2, 28)))
    message = str(refused.value)
    assert "2026-02-28 is before PKG-000001 was created on 2026-03-02" in message
    assert not [e for e in desk.store.events(package_id) if e.action == "outcome-recorded"]


def test_days_are_utc_days_whatever_zone_the_clock_reads_in() -> None:
    # 23:30 UTC on 2 March is already 3 March at UTC+2: the check uses the UTC day.
    clock = FakeClock(datetime(2026, 3, 3, 1, 30, tzinfo=timezone(timedelta(hours=2))))
    desk = package_desk(MemoryPackageStore(), MemoryCaseStore(), clock)
    package_id = _acknowledged_at_kent(desk)
    assert desk.outcomes.today() == date(2026, 3, 2)
    desk.outcomes.record(KENT_CONTACT, package_id, _on(date(2026, 3, 3)))
    with pytest.raises(InputError, match="in the future"):
        desk.outcomes.record(KENT_CONTACT, package_id, _on(date(2026, 3, 4)))


def test_the_state_is_checked_before_the_date_and_the_date_before_devices(
    desk: PackageDesk,
) -> None:
    package_id = _acknowledged_at_kent(desk)
    dossier = synthetic_dossier(2, random.Random(2), force="kent")
    sent = desk.packages.build(ANALYST, desk.dossiers.add(dossier).reference)
    desk.dissemination.approve(SUPERVISOR, sent.package_id)
    desk.dissemination.send(SUPERVISOR, sent.package_id)
    with pytest.raises(InputError, match="acknowledge it"):
        desk.outcomes.record(KENT_CONTACT, sent.package_id, _on(date(2020, 1, 1)))
    report = replace(_on(date(2020, 1, 1)), devices=(SeizedDevice("phone", "NO-SUCH-CASE"),))
    with pytest.raises(InputError, match="before PKG-000001 was created"):
        desk.outcomes.record(KENT_CONTACT, package_id, report)
