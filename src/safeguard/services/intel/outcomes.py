"""Outcomes: what a force reports back for a package, with seized devices linked to cases.

Only the destination force's contact or officers record outcomes, once the package has been
acknowledged. A device may name the forensic case (and exhibit) opened for it; the case
must exist, so the dashboard's "devices examined" is counted from real exhibits.
"""

from __future__ import annotations

from dataclasses import replace

from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError
from safeguard.domain.package_access import Viewer
from safeguard.domain.package_outcomes import Outcome
from safeguard.domain.packages import PackageState
from safeguard.services.intel.package_gate import PackageGate
from safeguard.storage.case_store import CaseStore

RECORDABLE = frozenset({PackageState.ACKNOWLEDGED, PackageState.ACTIONED, PackageState.CLOSED})


class OutcomeService:
    """Recording and reading outcome reports."""

    def __init__(self, gate: PackageGate, cases: CaseStore) -> None:
        self._gate = gate
        self._store = gate.store
        self._cases = cases

    def record(self, viewer: Viewer, package_ref: int | str, outcome: Outcome) -> Outcome:
        """Append an outcome report for the package (the latest report counts).

        Raises:
            AccessDeniedError: not the destination force's contact or officer.
            InputError: the package is not acknowledged yet, or a device names a case or
                exhibit that does not exist.
        """
        package = self._gate.visible(viewer, package_ref)
        if not viewer.can_record_outcomes or viewer.force != package.destination:
            self._gate.audit(viewer, "denied", package.package_id, attempted="outcome")
            raise AccessDeniedError(f"you may not record outcomes for {package.reference}")
        if package.state not in RECORDABLE:
            raise InputError(
                f"{package.reference} is {package.state.value}: acknowledge it before "
                "recording outcomes"
            )
        for device in outcome.devices:
            self._check_device(device.case_number, device.exhibit_reference)
        stored = self._store.record_outcome(
            replace(
                outcome,
                package_id=package.package_id,
                force=package.destination,
                recorded_by=viewer.name,
                recorded_at=self._gate.clock(),
            )
        )
        self._gate.audit(
            viewer,
            "outcome-recorded",
            package.package_id,
            outcome_id=stored.outcome_id,
            arrests=stored.arrests,
            children_safeguarded=stored.children_safeguarded,
        )
        return stored

    def _check_device(self, case_number: str, exhibit_reference: str) -> None:
        if not case_number:
            return
        try:
            case = self._cases.case_by_number(case_number)
        except NotFoundError:
            raise InputError(f"seized device: no forensic case {case_number!r}") from None
        if exhibit_reference and exhibit_reference not in {
            e.reference for e in self._cases.exhibits(case.case_id)
        }:
            raise InputError(
                f"seized device: case {case_number} has no exhibit {exhibit_reference!r}"
            )

    def history(self, viewer: Viewer, package_ref: int | str) -> list[Outcome]:
        """Every outcome report of the package, in order (audited)."""
        package = self._gate.visible(viewer, package_ref)
        self._gate.audit(viewer, "viewed", package.package_id, what="outcomes")
        return self._store.outcomes(package.package_id)
