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
from safeguard.domain.package_outcomes import FIGURE_FIELDS, Dashboard, Figures, Outcome
from safeguard.domain.packages import VISIBLE_TO_FORCES, PackageState
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
        if viewer.national:
            tracks = self._store.tracks()
        else:
            tracks = [
                t for t in self._store.tracks(viewer.force or "-") if t.state in VISIBLE_TO_FORCES
            ]
        visible = {t.package_id: t for t in tracks}
        latest: dict[int, Outcome] = {}
        for outcome in self._store.outcomes():
            if outcome.package_id in visible:
                latest[outcome.package_id] = outcome
        examined = self._examined(list(latest.values()))

        # Plain integer rows while summing; Figures only at the end.
        width = len(FIGURE_FIELDS)
        by_force: dict[str, list[int]] = defaultdict(lambda: [0] * width)
        by_month: dict[str, list[int]] = defaultdict(lambda: [0] * width)
        for track in tracks:
            if track.issued_at is not None:
                by_force[track.destination][0] += 1
                by_month[track.issued_at.strftime("%Y-%m")][0] += 1
        for package_id, outcome in latest.items():
            row = (
                0,
                outcome.premises_searched,
                outcome.arrests,
                outcome.voluntary_interviews,
                outcome.charges,
                outcome.devices_seized,
                examined.get(package_id, 0),
                outcome.children_safeguarded,
                outcome.children_at_serious_risk,
                1 if outcome.registered_sex_offender else 0,
            )
            for target in (
                by_force[visible[package_id].destination],
                by_month[outcome.occurred_on.strftime("%Y-%m")],
            ):
                for i, value in enumerate(row):
                    target[i] += value
        forces = {key: Figures(*values) for key, values in by_force.items()}
        national = (
            Figures(*(sum(col) for col in zip(*by_force.values(), strict=True)))
            if by_force
            else Figures()
        )
        now = self._gate.clock()
        states = Counter(t.state.value for t in tracks)
        workflow = [(s.value, states.get(s.value, 0)) for s in PackageState]
        workflow.append(("overdue", sum(1 for t in tracks if t.is_overdue(now))))
        title = self._title
        if not viewer.national:
            where = destination_name(viewer.force) if viewer.force else "no force"
            title = f"{self._title}: {where}"
        self._gate.audit(viewer, "viewed", None, what="dashboard", packages=len(tracks))
        return Dashboard(
            title=title,
            generated_at=now,
            by_force=tuple(
                (key, destination_name(key), figures) for key, figures in sorted(forces.items())
            ),
            national=national,
            by_month=tuple((m, Figures(*v)) for m, v in sorted(by_month.items())),
            workflow=tuple(workflow),
        )
