"""The operation dashboard: outcome figures per force, nationally and month by month.

The latest outcome report of each package counts. Devices examined are the exhibits named
by seized devices whose forensic case has a completed scan of them. National staff see
every force; a force's users see their own force only.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from safeguard.domain.cases import RunState
from safeguard.domain.errors import NotFoundError
from safeguard.domain.forces import destination_name
from safeguard.domain.package_access import Viewer
from safeguard.domain.package_outcomes import Dashboard, Figures, Outcome
from safeguard.domain.packages import PackageState
from safeguard.services.intel.package_gate import PackageGate
from safeguard.storage.case_store import CaseStore


class DashboardService:
    """Computes the dashboard a viewer may see."""

    def __init__(self, gate: PackageGate, cases: CaseStore, title: str = "Operation") -> None:
        self._gate = gate
        self._store = gate.store
        self._cases = cases
        self._title = title

    def _examined(self, outcomes: list[Outcome]) -> dict[int, int]:
        """Per package: exhibits named by its devices that have a completed scan."""
        completed: dict[tuple[str, str], bool] = {}
        result: dict[int, int] = {}
        for outcome in outcomes:
            count = 0
            for device in outcome.devices:
                key = (device.case_number, device.exhibit_reference)
                if not all(key):
                    continue
                if key not in completed:
                    completed[key] = self._scanned(*key)
                count += completed[key]
            result[outcome.package_id] = count
        return result

    def _scanned(self, case_number: str, exhibit_reference: str) -> bool:
        try:
            case = self._cases.case_by_number(case_number)
        except NotFoundError:
            return False
        for exhibit in self._cases.exhibits(case.case_id):
            if exhibit.reference == exhibit_reference:
                return any(
                    r.state == RunState.COMPLETED for r in self._cases.runs(exhibit.exhibit_id)
                )
        return False

    def dashboard(self, viewer: Viewer) -> Dashboard:
        """The figures the viewer may see (audited as a view)."""
        force = None if viewer.national else (viewer.force or "-")
        packages = [p for p in self._store.packages(destination=force) if viewer.can_see(p)]
        visible = {p.package_id: p for p in packages}
        latest: dict[int, Outcome] = {}
        for outcome in self._store.outcomes():
            if outcome.package_id in visible:
                latest[outcome.package_id] = outcome
        examined = self._examined(list(latest.values()))

        by_force: dict[str, Figures] = defaultdict(Figures)
        by_month: dict[str, Figures] = defaultdict(Figures)
        for package in packages:
            if package.issued_at is not None:
                by_force[package.destination] += Figures(packages=1)
                by_month[package.issued_at.strftime("%Y-%m")] += Figures(packages=1)
        for package_id, outcome in latest.items():
            figures = Figures(
                premises_searched=outcome.premises_searched,
                arrests=outcome.arrests,
                voluntary_interviews=outcome.voluntary_interviews,
                charges=outcome.charges,
                devices_seized=outcome.devices_seized,
                devices_examined=examined.get(package_id, 0),
                children_safeguarded=outcome.children_safeguarded,
                children_at_serious_risk=outcome.children_at_serious_risk,
                registered_sex_offenders=1 if outcome.registered_sex_offender else 0,
            )
            by_force[visible[package_id].destination] += figures
            by_month[outcome.occurred_on.strftime("%Y-%m")] += figures
        national = sum(by_force.values(), Figures())
        now = self._gate.clock()
        states = Counter(p.state.value for p in packages)
        workflow = [(s.value, states.get(s.value, 0)) for s in PackageState]
        workflow.append(("overdue", sum(1 for p in packages if p.is_overdue(now))))
        title = self._title
        if not viewer.national:
            title = (
                f"{self._title}: {destination_name(viewer.force) if viewer.force else 'no force'}"
            )
        self._gate.audit(viewer, "viewed", None, what="dashboard", packages=len(packages))
        return Dashboard(
            title=title,
            generated_at=now,
            by_force=tuple(
                (key, destination_name(key), figures) for key, figures in sorted(by_force.items())
            ),
            national=national,
            by_month=tuple(sorted(by_month.items())),
            workflow=tuple(workflow),
        )
