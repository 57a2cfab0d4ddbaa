"""The demo's package step: outcomes follow dissemination, and the dashboard shows them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from safeguard.domain.cases import ExhibitKind
from safeguard.domain.packages import DeadlinePolicy
from safeguard.services.demo.package_flow import SUPERVISOR, run_package_demo
from safeguard.services.intel.dashboard import DashboardService
from safeguard.services.intel.dissemination import DisseminationService
from safeguard.services.intel.outcomes import OutcomeService
from safeguard.services.intel.package_gate import PackageGate
from safeguard.services.intel.package_sources import IntelCoreDossiers
from safeguard.services.intel.packages import PackageService
from safeguard.services.intel.routing import ForceRouter
from safeguard.storage.memory_cases import MemoryCaseStore
from safeguard.storage.memory_intel import MemoryIntelStore
from safeguard.storage.memory_packages import MemoryPackageStore
from tests.intel_stack import intel_stack
from tests.package_support import FakeClock, shared_directory

# Later than every referral the demo makes (they are dated February 2026).
NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def test_outcomes_are_dated_between_issue_and_today_and_fill_the_current_month(
    tmp_path: Path,
) -> None:
    intel = intel_stack(MemoryIntelStore())
    store, cases = MemoryPackageStore(), MemoryCaseStore()
    gate = PackageGate(store, FakeClock(NOW))
    deadlines = DeadlinePolicy()
    packages = PackageService(
        gate, IntelCoreDossiers(intel.subjects), ForceRouter(shared_directory()), deadlines
    )
    outcomes = OutcomeService(gate, cases)
    dashboard = DashboardService(gate, cases, title="Operation Demo")
    case = cases.create_case("DEMO-1", "demo", "the demo exhibit", NOW)
    cases.ensure_exhibit(case.case_id, "EXH-1", "/demo/exhibit", ExhibitKind.FOLDER, NOW)

    done = run_package_demo(
        tmp_path,
        intel.intake,
        intel.subjects,
        packages,
        DisseminationService(gate, packages, deadlines),
        outcomes,
        dashboard,
        "DEMO-1",
        "EXH-1",
    )

    recorded = [o for p in done.packages for o in outcomes.history(SUPERVISOR, p.package_id)]
    assert len(recorded) == 6  # the two desks' packages get none
    for package in done.packages:
        for outcome in outcomes.history(SUPERVISOR, package.package_id):
            assert package.issued_at is not None
            assert package.issued_at.date() <= outcome.occurred_on <= NOW.date()
    # Packages and outcomes fall in the same (current) month: figures over time are not empty.
    board = dashboard.dashboard(SUPERVISOR)
    ((month, figures),) = board.by_month
    assert month == "2026-12"
    assert (figures.packages, figures.arrests) == (8, 6)
    assert figures.children_safeguarded == board.national.children_safeguarded > 0
    rows = list(csv.DictReader(io.StringIO(done.dashboard_csv.read_text(encoding="utf-8"))))
    assert [(r["key"], r["arrests"]) for r in rows if r["scope"] == "month"] == [("2026-12", "6")]
    assert 'data-national="arrests">6<' in done.dashboard_page.read_text(encoding="utf-8")
