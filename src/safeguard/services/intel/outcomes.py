"""Outcomes: what a force reports back for a package, with seized devices linked to cases.

Only the destination force's contact or officers record outcomes, once the package has been
acknowledged. The date of the action lies between the day the package was created and
today (UTC, by the services' clock): a force cannot act on a package before it exists, and
figures over time must not count actions that have not happened. A device may name the
forensic case (and exhibit) opened for it; the case must exist, so the dashboard's
"devices examined" is counted from real exhibits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, timedelta

from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError
from safeguard.domain.package_access import Viewer
from safeguard.domain.package_outcomes import Outcome
from safeguard.domain.packages import Package, PackageState
from safeguard.services.intel.package_gate import PackageGate
from safeguard.storage.case_store import CaseStore

RECORDABLE = frozenset({PackageState.ACKNOWLEDGED, PackageState.ACTIONED, PackageState.CLOSED})

_ONE_DAY = timedelta(days=1)


class OutcomeService:
    """Recording and reading outcome reports."""

    def __init__(self, gate: PackageGate, cases: CaseStore) -> None:
        self._gate = gate
        self._store = gate.store
        self._cases = cases

    def today(self) -> date:
        """Today's date (UTC) by the services' clock: the latest date an action may have."""
        return self._gate.clock().astimezone(UTC).date()

    def action_dates(self, package: Package) -> tuple[date, date]:
        """The first and last date an outcome of `package` may give for its action.

        From the day before the package was created to the day after `today` (UTC days):
        an officer types the local date, which can be a day behind UTC's or ahead of it
        (a UK force shortly after midnight in summer time).
        """
        created = package.created_at.astimezone(UTC).date()
        return created - _ONE_DAY, self.today() + _ONE_DAY

    def record(self, viewer: Viewer, package_ref: int | str, outcome: Outcome) -> Outcome:
        """Append an outcome report for the package (the latest report counts).

        Raises:
            AccessDeniedError: not the destination force's contact or officer.
            InputError: the package is not acknowledged yet, the date of the action is in
                the future or before the package was created, or a device names a case or
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
        self._check_date(package, outcome.occurred_on)
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

    def _check_date(self, package: Package, occurred_on: date) -> None:
        first, last = self.action_dates(package)
        if occurred_on > last:
            raise InputError(
                f"the date of action {occurred_on.isoformat()} is in the future (today is "
                f"{self.today().isoformat()} UTC): give the date the action took place"
            )
        if occurred_on < first:
            created = package.created_at.astimezone(UTC).date()
            raise InputError(
                f"the date of action {occurred_on.isoformat()} is before {package.reference} "
                f"was created on {created.isoformat()}: give the date the action on this "
                "package took place"
            )

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
