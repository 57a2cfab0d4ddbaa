"""The dissemination workflow: approve (four eyes), send, acknowledge, return, action, close.

Each step checks the viewer's role and force (`PackageGate.allowed`), the state machine
(`domain.packages.TRANSITIONS`) and, for approval, that the approver wrote no version.
Sending records, for the version issued, its issue time and the SHA-256 of its HTML, and
sets the deadline from the risk band. Every step is audited.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from safeguard.domain.errors import InputError
from safeguard.domain.package_access import Viewer
from safeguard.domain.packages import (
    OPEN_AT_FORCE,
    DeadlinePolicy,
    Package,
    PackageAction,
    check_four_eyes,
    next_state,
)
from safeguard.services.intel.package_documents import html_sha256
from safeguard.services.intel.package_gate import PackageGate
from safeguard.services.intel.packages import PackageService


class DisseminationService:
    """Moves packages through the workflow."""

    def __init__(
        self, gate: PackageGate, packages: PackageService, deadlines: DeadlinePolicy | None = None
    ) -> None:
        self._gate = gate
        self._store = gate.store
        self._packages = packages
        self._deadlines = deadlines or DeadlinePolicy()

    def _step(
        self, viewer: Viewer, package_ref: int | str, action: PackageAction
    ) -> tuple[Package, Package]:
        package = self._gate.visible(viewer, package_ref)
        self._gate.allowed(viewer, package, action)
        target = next_state(package.state, action)
        return package, replace(package, state=target, updated_at=self._gate.clock())

    def _commit(
        self, viewer: Viewer, before: Package, after: Package, action: str, **detail: object
    ) -> Package:
        self._store.update_package(after, before.state)
        self._gate.audit(
            viewer,
            action,
            after.package_id,
            state_from=before.state.value,
            state_to=after.state.value,
            version=after.version,
            **detail,
        )
        return after

    def approve(self, viewer: Viewer, package_ref: int | str) -> Package:
        """A second person approves the draft (never anyone who wrote a version).

        Raises:
            AccessDeniedError: not a supervisor, or one of the package's authors.
        """
        before, after = self._step(viewer, package_ref, PackageAction.APPROVE)
        authors = {v.created_by for v in self._store.versions(before.package_id)} | {before.author}
        try:
            check_four_eyes(viewer.name, authors)
        except Exception:
            self._gate.audit(
                viewer, "denied", before.package_id, attempted="approve", rule="four-eyes"
            )
            raise
        now = after.updated_at
        return self._commit(
            viewer, before, replace(after, approved_by=viewer.name, approved_at=now), "approved"
        )

    def send(self, viewer: Viewer, package_ref: int | str) -> Package:
        """Disseminate the approved version to its destination; the deadline starts now."""
        before, after = self._step(viewer, package_ref, PackageAction.SEND)
        view = self._packages.read(viewer, before.package_id, audit=False)
        now = after.updated_at
        assert now is not None
        sha = html_sha256(view)
        self._store.mark_issued(before.package_id, before.version, now, sha)
        due = self._deadlines.due(now, before.band)
        sent = replace(
            after,
            issued_at=now,
            due_at=due,
            acknowledged_at=None,
            actioned_at=None,
            returned_reason="",
        )
        return self._commit(
            viewer,
            before,
            sent,
            "disseminated",
            destination=before.destination,
            sha256=view.version.sha256,
            html_sha256=sha,
            due_at=due.isoformat(),
        )

    def acknowledge(self, viewer: Viewer, package_ref: int | str) -> Package:
        """The force's contact confirms receipt."""
        before, after = self._step(viewer, package_ref, PackageAction.ACKNOWLEDGE)
        return self._commit(
            viewer, before, replace(after, acknowledged_at=after.updated_at), "acknowledged"
        )

    def return_package(self, viewer: Viewer, package_ref: int | str, reason: str) -> Package:
        """The force sends the package back, with a reason.

        Raises:
            InputError: no reason given.
        """
        if not reason.strip():
            raise InputError("returning a package needs a reason")
        before, after = self._step(viewer, package_ref, PackageAction.RETURN)
        return self._commit(
            viewer,
            before,
            replace(after, returned_reason=reason.strip()),
            "returned",
            reason=reason.strip(),
        )

    def action(self, viewer: Viewer, package_ref: int | str) -> Package:
        """The force has acted on the package."""
        before, after = self._step(viewer, package_ref, PackageAction.ACTION)
        return self._commit(
            viewer, before, replace(after, actioned_at=after.updated_at), "actioned"
        )

    def close(self, viewer: Viewer, package_ref: int | str) -> Package:
        """Close an actioned package."""
        before, after = self._step(viewer, package_ref, PackageAction.CLOSE)
        return self._commit(viewer, before, replace(after, closed_at=after.updated_at), "closed")

    def overdue(self, viewer: Viewer, now: datetime | None = None) -> list[Package]:
        """Packages past their deadline that the viewer may see (both sides see the flag)."""
        moment = now or self._gate.clock()
        if viewer.national:
            candidates = self._store.packages(states=OPEN_AT_FORCE)
        elif viewer.force:
            candidates = self._store.packages(destination=viewer.force, states=OPEN_AT_FORCE)
        else:
            candidates = []
        return [p for p in candidates if p.is_overdue(moment)]
