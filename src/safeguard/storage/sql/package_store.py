"""`PackageStore` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.package_outcomes import Outcome, SeizedDevice
from safeguard.domain.packages import (
    Package,
    PackageEvent,
    PackageState,
    PackageTrack,
    PackageVersion,
    RoutingDecision,
)
from safeguard.storage.package_store import package_reference
from safeguard.storage.sql.tables_packages import (
    package_events,
    package_outcomes,
    package_versions,
    packages,
)
from safeguard.storage.sql.utc import aware as _aware
from safeguard.storage.sql.utc import required as _required


def _package(row: RowMapping) -> Package:
    return Package(
        package_id=row["id"],
        reference=row["reference"],
        subject_reference=row["subject_reference"],
        band=row["band"],
        routing=RoutingDecision(
            row["destination"],
            row["routing_method"],
            row["routing_detail"],
            row["routing_reason"],
            row["routing_by"],
        ),
        state=PackageState(row["state"]),
        author=row["author"],
        created_at=_required(row["created_at"]),
        version=row["version"],
        approved_by=row["approved_by"],
        approved_at=_aware(row["approved_at"]),
        issued_at=_aware(row["issued_at"]),
        due_at=_aware(row["due_at"]),
        acknowledged_at=_aware(row["acknowledged_at"]),
        actioned_at=_aware(row["actioned_at"]),
        closed_at=_aware(row["closed_at"]),
        returned_reason=row["returned_reason"],
        updated_at=_aware(row["updated_at"]),
    )


def _tracked(package: Package) -> dict[str, Any]:
    return {
        "band": package.band,
        "destination": package.routing.destination,
        "routing_method": package.routing.method,
        "routing_detail": package.routing.detail,
        "routing_reason": package.routing.reason,
        "routing_by": package.routing.decided_by,
        "state": package.state.value,
        "version": package.version,
        "approved_by": package.approved_by,
        "approved_at": package.approved_at,
        "issued_at": package.issued_at,
        "due_at": package.due_at,
        "acknowledged_at": package.acknowledged_at,
        "actioned_at": package.actioned_at,
        "closed_at": package.closed_at,
        "returned_reason": package.returned_reason,
        "updated_at": package.updated_at,
    }


def _version(row: RowMapping) -> PackageVersion:
    return PackageVersion(
        number=row["number"],
        content_json=row["content"].encode("utf-8"),
        sha256=row["sha256"],
        created_by=row["created_by"],
        created_at=_required(row["created_at"]),
        issued_at=_aware(row["issued_at"]),
        issued_html_sha256=row["issued_html_sha256"],
    )


def _version_row(package_id: int, version: PackageVersion) -> dict[str, Any]:
    return {
        "package_id": package_id,
        "number": version.number,
        "content": version.content_json.decode("utf-8"),
        "sha256": version.sha256,
        "created_by": version.created_by,
        "created_at": version.created_at,
        "issued_at": version.issued_at,
        "issued_html_sha256": version.issued_html_sha256,
    }


def _outcome(row: RowMapping) -> Outcome:
    return Outcome(
        outcome_id=row["id"],
        package_id=row["package_id"],
        force=row["force"],
        occurred_on=row["occurred_on"],
        premises_searched=row["premises_searched"],
        arrests=row["arrests"],
        voluntary_interviews=row["voluntary_interviews"],
        charges=row["charges"],
        devices=tuple(SeizedDevice(**d) for d in json.loads(row["devices"])),
        children_safeguarded=row["children_safeguarded"],
        children_at_serious_risk=row["children_at_serious_risk"],
        safeguarding_basis=row["safeguarding_basis"],
        registered_sex_offender=row["registered_sex_offender"],
        notes=row["notes"],
        recorded_by=row["recorded_by"],
        recorded_at=_aware(row["recorded_at"]),
    )


class SqlPackageStore:
    """Packages in the shared database (tables in `tables_packages`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_package(
        self,
        subject_reference: str,
        band: str,
        routing: RoutingDecision,
        author: str,
        created_at: datetime,
        first_version: PackageVersion,
    ) -> Package:
        """Store a new draft with its first version, in one transaction."""
        draft = Package(
            package_id=0,
            reference="",
            subject_reference=subject_reference,
            band=band,
            routing=routing,
            state=PackageState.DRAFT,
            author=author,
            created_at=created_at,
            version=first_version.number,
            updated_at=created_at,
        )
        with self._engine.begin() as conn:
            # A unique placeholder reference, replaced by one made from the id.
            placeholder = f"new-{subject_reference}-{created_at.timestamp()}"[:40]
            values = _tracked(draft) | {
                "reference": placeholder,
                "subject_reference": subject_reference,
                "author": author,
                "created_at": created_at,
            }
            key = conn.execute(insert(packages).values(values)).inserted_primary_key
            assert key is not None
            package_id = int(key[0])
            reference = package_reference(package_id)
            conn.execute(
                update(packages).where(packages.c.id == package_id).values(reference=reference)
            )
            conn.execute(insert(package_versions).values(_version_row(package_id, first_version)))
        return replace(draft, package_id=package_id, reference=reference)

    def package(self, package_id: int) -> Package:
        """The package with this id."""
        with self._engine.connect() as conn:
            row = conn.execute(select(packages).where(packages.c.id == package_id)).mappings()
            found = row.first()
        if found is None:
            raise NotFoundError(f"no package {package_id}")
        return _package(found)

    def package_by_reference(self, reference: str) -> Package:
        """The package with this reference."""
        query = select(packages).where(packages.c.reference == reference.upper())
        with self._engine.connect() as conn:
            found = conn.execute(query).mappings().first()
        if found is None:
            raise NotFoundError(f"no package {reference!r}")
        return _package(found)

    def packages(
        self,
        destination: str | None = None,
        states: Collection[PackageState] | None = None,
    ) -> list[Package]:
        """Packages newest first, filtered."""
        query = select(packages).order_by(packages.c.id.desc())
        if destination is not None:
            query = query.where(packages.c.destination == destination)
        if states is not None:
            query = query.where(packages.c.state.in_([s.value for s in states]))
        with self._engine.connect() as conn:
            return [_package(row) for row in conn.execute(query).mappings()]

    def tracks(self, destination: str | None = None) -> list[PackageTrack]:
        """The counting fields of every package, in one narrow query."""
        c = packages.c
        query = select(c.id, c.destination, c.state, c.issued_at, c.due_at).order_by(c.id.desc())
        if destination is not None:
            query = query.where(c.destination == destination)
        states = {s.value: s for s in PackageState}
        with self._engine.connect() as conn:
            return [
                PackageTrack(row[0], row[1], states[row[2]], _aware(row[3]), _aware(row[4]))
                for row in conn.execute(query)
            ]

    def update_package(self, package: Package, expected_state: PackageState) -> Package:
        """Compare-and-set on the state."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(packages)
                .where(packages.c.id == package.package_id)
                .where(packages.c.state == expected_state.value)
                .values(_tracked(package))
            )
            if result.rowcount != 1:
                current = conn.execute(
                    select(packages.c.state).where(packages.c.id == package.package_id)
                ).scalar()
                if current is None:
                    raise NotFoundError(f"no package {package.package_id}")
                raise StorageError(
                    f"{package.reference} is now {current}, not {expected_state.value}"
                )
        return package

    def add_version(self, package_id: int, version: PackageVersion) -> None:
        """Append the next version (the unique key refuses a duplicate number)."""
        with self._engine.begin() as conn:
            last = conn.execute(
                select(package_versions.c.number)
                .where(package_versions.c.package_id == package_id)
                .order_by(package_versions.c.number.desc())
                .limit(1)
            ).scalar()
            if last is None:
                raise NotFoundError(f"no package {package_id}")
            if version.number != last + 1:
                raise StorageError(f"version {version.number} is not the next one")
            conn.execute(insert(package_versions).values(_version_row(package_id, version)))

    def versions(self, package_id: int) -> list[PackageVersion]:
        """Every version, oldest first."""
        query = (
            select(package_versions)
            .where(package_versions.c.package_id == package_id)
            .order_by(package_versions.c.number)
        )
        with self._engine.connect() as conn:
            found = [_version(row) for row in conn.execute(query).mappings()]
        if not found:
            raise NotFoundError(f"no package {package_id}")
        return found

    def mark_issued(
        self, package_id: int, number: int, issued_at: datetime, html_sha256: str
    ) -> None:
        """Set a version's issue time and HTML hash."""
        with self._engine.begin() as conn:
            conn.execute(
                update(package_versions)
                .where(package_versions.c.package_id == package_id)
                .where(package_versions.c.number == number)
                .values(issued_at=issued_at, issued_html_sha256=html_sha256)
            )

    def record_outcome(self, outcome: Outcome) -> Outcome:
        """Append an outcome report."""
        values = {
            "package_id": outcome.package_id,
            "force": outcome.force,
            "occurred_on": outcome.occurred_on,
            "premises_searched": outcome.premises_searched,
            "arrests": outcome.arrests,
            "voluntary_interviews": outcome.voluntary_interviews,
            "charges": outcome.charges,
            "devices": json.dumps(
                [
                    {
                        "description": d.description,
                        "case_number": d.case_number,
                        "exhibit_reference": d.exhibit_reference,
                    }
                    for d in outcome.devices
                ]
            ),
            "children_safeguarded": outcome.children_safeguarded,
            "children_at_serious_risk": outcome.children_at_serious_risk,
            "safeguarding_basis": outcome.safeguarding_basis,
            "registered_sex_offender": outcome.registered_sex_offender,
            "notes": outcome.notes,
            "recorded_by": outcome.recorded_by,
            "recorded_at": outcome.recorded_at,
        }
        with self._engine.begin() as conn:
            key = conn.execute(insert(package_outcomes).values(values)).inserted_primary_key
        assert key is not None
        return replace(outcome, outcome_id=int(key[0]))

    def outcomes(self, package_id: int | None = None) -> list[Outcome]:
        """Outcome reports in order."""
        query = select(package_outcomes).order_by(package_outcomes.c.id)
        if package_id is not None:
            query = query.where(package_outcomes.c.package_id == package_id)
        with self._engine.connect() as conn:
            return [_outcome(row) for row in conn.execute(query).mappings()]

    def append_event(self, event: PackageEvent) -> PackageEvent:
        """Append an audit event."""
        values = {
            "at": event.at,
            "actor": event.actor,
            "action": event.action,
            "package_id": event.package_id,
            "detail": json.dumps(event.detail, sort_keys=True, default=str),
        }
        with self._engine.begin() as conn:
            key = conn.execute(insert(package_events).values(values)).inserted_primary_key
        assert key is not None
        return replace(event, event_id=int(key[0]))

    def events(self, package_id: int | None = None) -> list[PackageEvent]:
        """Audit events in order."""
        query = select(package_events).order_by(package_events.c.id)
        if package_id is not None:
            query = query.where(package_events.c.package_id == package_id)
        with self._engine.connect() as conn:
            return [
                PackageEvent(
                    row["id"],
                    _required(row["at"]),
                    row["actor"],
                    row["action"],
                    row["package_id"],
                    json.loads(row["detail"]),
                )
                for row in conn.execute(query).mappings()
            ]
