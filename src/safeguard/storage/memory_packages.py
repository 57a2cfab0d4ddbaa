"""An in-memory `PackageStore` for tests and for trying things out."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.package_outcomes import Outcome
from safeguard.domain.packages import (
    Package,
    PackageEvent,
    PackageState,
    PackageTrack,
    PackageVersion,
    RoutingDecision,
)
from safeguard.storage.package_store import package_reference


class MemoryPackageStore:
    """Packages in dictionaries, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._packages: dict[int, Package] = {}
        self._versions: dict[int, list[PackageVersion]] = {}
        self._outcomes: list[Outcome] = []
        self._events: list[PackageEvent] = []

    def create_package(
        self,
        subject_reference: str,
        band: str,
        routing: RoutingDecision,
        author: str,
        created_at: datetime,
        first_version: PackageVersion,
    ) -> Package:
        """Store a new draft with its first version."""
        with self._lock:
            package_id = len(self._packages) + 1
            package = Package(
                package_id=package_id,
                reference=package_reference(package_id),
                subject_reference=subject_reference,
                band=band,
                routing=routing,
                state=PackageState.DRAFT,
                author=author,
                created_at=created_at,
                version=first_version.number,
                updated_at=created_at,
            )
            self._packages[package_id] = package
            self._versions[package_id] = [first_version]
            return package

    def package(self, package_id: int) -> Package:
        """The package with this id."""
        found = self._packages.get(package_id)
        if found is None:
            raise NotFoundError(f"no package {package_id}")
        return found

    def package_by_reference(self, reference: str) -> Package:
        """The package with this reference."""
        for package in self._packages.values():
            if package.reference == reference.upper():
                return package
        raise NotFoundError(f"no package {reference!r}")

    def packages(
        self,
        destination: str | None = None,
        states: Collection[PackageState] | None = None,
    ) -> list[Package]:
        """Packages newest first, filtered."""
        chosen = [
            p
            for p in self._packages.values()
            if (destination is None or p.destination == destination)
            and (states is None or p.state in states)
        ]
        return sorted(chosen, key=lambda p: p.package_id, reverse=True)

    def tracks(self, destination: str | None = None) -> list[PackageTrack]:
        """The counting fields of every package."""
        return [
            PackageTrack(p.package_id, p.destination, p.state, p.issued_at, p.due_at)
            for p in self.packages(destination)
        ]

    def update_package(self, package: Package, expected_state: PackageState) -> Package:
        """Compare-and-set on the state."""
        with self._lock:
            current = self.package(package.package_id)
            if current.state != expected_state:
                raise StorageError(
                    f"{current.reference} is now {current.state.value}, not {expected_state.value}"
                )
            self._packages[package.package_id] = package
            return package

    def add_version(self, package_id: int, version: PackageVersion) -> None:
        """Append the next version."""
        with self._lock:
            versions = self._versions.get(package_id)
            if versions is None:
                raise NotFoundError(f"no package {package_id}")
            if version.number != len(versions) + 1:
                raise StorageError(f"version {version.number} is not the next one")
            versions.append(version)

    def versions(self, package_id: int) -> list[PackageVersion]:
        """Every version, oldest first."""
        self.package(package_id)
        return list(self._versions[package_id])

    def mark_issued(
        self, package_id: int, number: int, issued_at: datetime, html_sha256: str
    ) -> None:
        """Set a version's issue time and HTML hash."""
        with self._lock:
            versions = self._versions[package_id]
            versions[number - 1] = replace(
                versions[number - 1], issued_at=issued_at, issued_html_sha256=html_sha256
            )

    def record_outcome(self, outcome: Outcome) -> Outcome:
        """Append an outcome report."""
        with self._lock:
            stored = replace(outcome, outcome_id=len(self._outcomes) + 1)
            self._outcomes.append(stored)
            return stored

    def outcomes(self, package_id: int | None = None) -> list[Outcome]:
        """Outcome reports in order."""
        return [o for o in self._outcomes if package_id is None or o.package_id == package_id]

    def append_event(self, event: PackageEvent) -> PackageEvent:
        """Append an audit event."""
        with self._lock:
            stored = replace(event, event_id=len(self._events) + 1)
            self._events.append(stored)
            return stored

    def events(self, package_id: int | None = None) -> list[PackageEvent]:
        """Audit events in order."""
        return [e for e in self._events if package_id is None or e.package_id == package_id]
