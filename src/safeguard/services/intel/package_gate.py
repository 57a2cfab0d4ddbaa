"""What every package use case shares: the clock, the audit log and the visibility rule.

Every view and every change goes through `PackageGate`, which writes one audit event for
it. A package the viewer may not see raises `NotFoundError`, worded exactly as for a
package that does not exist, and the refused attempt is itself audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from safeguard.domain.errors import AccessDeniedError, NotFoundError
from safeguard.domain.package_access import Viewer
from safeguard.domain.packages import Package, PackageAction, PackageEvent
from safeguard.storage.package_store import PackageStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock (tests inject their own)."""
    return datetime.now(UTC)


class PackageGate:
    """Access checks and audit over a `PackageStore`."""

    def __init__(self, store: PackageStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    def audit(
        self, viewer: Viewer | str, action: str, package_id: int | None, **detail: object
    ) -> PackageEvent:
        """Append one audit event."""
        actor = viewer if isinstance(viewer, str) else viewer.name
        return self.store.append_event(
            PackageEvent(0, self.clock(), actor, action, package_id, detail)
        )

    def visible(self, viewer: Viewer, package_ref: int | str) -> Package:
        """The package if `viewer` may see it; otherwise not found (and audited as denied).

        Args:
            viewer: who asks.
            package_ref: the package id or its reference (``PKG-000001``).

        Raises:
            NotFoundError: no such package, or one the viewer may not see.
        """
        try:
            package = (
                self.store.package(package_ref)
                if isinstance(package_ref, int)
                else self.store.package_by_reference(package_ref)
            )
        except NotFoundError:
            raise NotFoundError(f"no package {package_ref!r}") from None
        if not viewer.can_see(package):
            self.audit(viewer, "denied", package.package_id, asked=str(package_ref))
            raise NotFoundError(f"no package {package_ref!r}")
        return package

    def allowed(self, viewer: Viewer, package: Package, action: PackageAction) -> None:
        """Refuse `action` when none of the viewer's roles allows it, or it is not their force's.

        Raises:
            AccessDeniedError: the role or force does not allow it (audited).
        """
        own_force = viewer.national or package.destination == viewer.force
        if not viewer.may(action) or not own_force:
            self.audit(viewer, "denied", package.package_id, attempted=action.value)
            raise AccessDeniedError(f"you may not {action.value} {package.reference}")
