"""The port for intelligence packages, their versions, outcomes and audit events."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from safeguard.domain.package_outcomes import Outcome
from safeguard.domain.packages import (
    Package,
    PackageEvent,
    PackageState,
    PackageTrack,
    PackageVersion,
    RoutingDecision,
)


def package_reference(package_id: int) -> str:
    """The reference people quote for a package id."""
    return f"PKG-{package_id:06d}"


class PackageStore(Protocol):
    """Where packages live.

    Versions are immutable once written (only their issue time and HTML hash are set, once,
    when issued); outcomes and events are append-only. `update_package` is a compare-and-set
    on the state, so two people acting at once cannot both move a package. Lookups of
    missing objects raise `NotFoundError`; a lost race raises `StorageError`.
    """

    def create_package(
        self,
        subject_reference: str,
        band: str,
        routing: RoutingDecision,
        author: str,
        created_at: datetime,
        first_version: PackageVersion,
    ) -> Package:
        """Store a new draft package with its first version; assigns id and reference."""
        ...

    def package(self, package_id: int) -> Package:
        """The package with this id."""
        ...

    def package_by_reference(self, reference: str) -> Package:
        """The package with this reference (``PKG-000001``)."""
        ...

    def packages(
        self,
        destination: str | None = None,
        states: Collection[PackageState] | None = None,
    ) -> list[Package]:
        """Packages, newest first, optionally only one destination's and some states."""
        ...

    def tracks(self, destination: str | None = None) -> list[PackageTrack]:
        """Id, destination, state, issue time and deadline of every package (one query)."""
        ...

    def update_package(self, package: Package, expected_state: PackageState) -> Package:
        """Replace the package's tracked fields if its stored state is still `expected_state`."""
        ...

    def add_version(self, package_id: int, version: PackageVersion) -> None:
        """Append a version (its number must be the next one)."""
        ...

    def versions(self, package_id: int) -> list[PackageVersion]:
        """Every version, oldest first."""
        ...

    def mark_issued(
        self, package_id: int, number: int, issued_at: datetime, html_sha256: str
    ) -> None:
        """Record when a version was disseminated and the SHA-256 of its HTML as issued."""
        ...

    def record_outcome(self, outcome: Outcome) -> Outcome:
        """Append an outcome report; returns it with its id."""
        ...

    def outcomes(self, package_id: int | None = None) -> list[Outcome]:
        """Outcome reports in the order recorded, optionally one package's."""
        ...

    def append_event(self, event: PackageEvent) -> PackageEvent:
        """Append an audit event; returns it with its id."""
        ...

    def events(self, package_id: int | None = None) -> list[PackageEvent]:
        """Audit events in the order appended, optionally one package's."""
        ...
