"""Build intelligence packages from the intelligence core's subjects, version and read them.

The builder asks a `DossierSource` (the intelligence core) for everything known about a
subject, or about a subject and its linked network, routes it (`routing.ForceRouter`) and
writes version 1. Rebuilding or revising writes a new version only when the content
changed; every version stays readable with the SHA-256 it was stored under.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError
from safeguard.domain.package_access import Viewer
from safeguard.domain.package_content import (
    DeviceLine,
    EvidenceLine,
    IdentifierLine,
    LinkedSubject,
    Location,
    PackageContent,
    ReferralLine,
    Risk,
    handling_for,
)
from safeguard.domain.packages import (
    DeadlinePolicy,
    Package,
    PackageAction,
    PackageState,
    PackageVersion,
    RoutingDecision,
    next_state,
)
from safeguard.services.intel.package_gate import PackageGate
from safeguard.services.intel.routing import ForceRouter

RECOMMENDED_ACTIONS = {
    "Very High": "Immediate action: safeguard children in contact with the subject, arrest, "
    "search the premises and seize devices.",
    "High": "Arrest and search within the deadline; assess the safeguarding of children in "
    "contact with the subject.",
    "Medium": "Confirm identity and address, then consider a search warrant and arrest.",
    "Low": "Develop the intelligence; consider a voluntary interview.",
}


@dataclass(frozen=True, slots=True)
class SubjectDossier:
    """Everything the intelligence core knows about a subject, as a package needs it."""

    reference: str
    display_name: str
    identifiers: tuple[IdentifierLine, ...]
    location: Location
    linked: tuple[LinkedSubject, ...]
    referrals: tuple[ReferralLine, ...]
    evidence: tuple[EvidenceLine, ...]
    devices: tuple[DeviceLine, ...]
    risk: Risk


class DossierSource(Protocol):
    """The intelligence core, seen from the package builder."""

    def dossier(self, subject_reference: str, *, network: bool = False) -> SubjectDossier:
        """The subject's dossier; with `network`, `linked` lists its whole linked network.

        Raises:
            NotFoundError: no such subject.
        """
        ...


@dataclass(frozen=True, slots=True)
class Override:
    """An analyst's routing choice: a force key or desk, and why."""

    destination: str
    reason: str


@dataclass(frozen=True, slots=True)
class PackageView:
    """One version of a package as read: the tracked package, the version and its content."""

    package: Package
    version: PackageVersion
    content: PackageContent

    @property
    def hash_matches(self) -> bool:
        """True when the stored bytes still hash to the SHA-256 recorded for the version."""
        import hashlib

        return hashlib.sha256(self.version.content_json).hexdigest() == self.version.sha256


class PackageService:
    """Building, revising, listing and reading packages; every step audited."""

    def __init__(
        self,
        gate: PackageGate,
        dossiers: DossierSource,
        router: ForceRouter,
        deadlines: DeadlinePolicy | None = None,
    ) -> None:
        self._gate = gate
        self._store = gate.store
        self._dossiers = dossiers
        self._router = router
        self._deadlines = deadlines or DeadlinePolicy()

    # --- building ---------------------------------------------------------------------

    def _route(
        self, viewer: Viewer, location: Location, override: Override | None
    ) -> RoutingDecision:
        if override is None:
            return self._router.route(location)
        return self._router.override(location, override.destination, override.reason, viewer.name)

    def compose(
        self,
        dossier: SubjectDossier,
        routing: RoutingDecision,
        notes: str = "",
        recommended_action: str = "",
        *,
        network: bool = False,
    ) -> PackageContent:
        """The package content for a dossier and routing decision (no storage, no audit)."""
        band = dossier.risk.band
        return PackageContent(
            subject_reference=dossier.reference,
            display_name=dossier.display_name,
            identifiers=dossier.identifiers,
            location=dossier.location,
            destination=routing.destination,
            routing_note=routing.note,
            linked=dossier.linked,
            referrals=dossier.referrals,
            evidence=dossier.evidence,
            devices=dossier.devices,
            risk=dossier.risk,
            recommended_action=recommended_action or RECOMMENDED_ACTIONS.get(band, ""),
            urgency=f"{band}: {self._deadlines.describe(band)}",
            handling=handling_for(dossier.referrals),
            notes=notes,
            network=network,
        )

    def build(
        self,
        viewer: Viewer,
        subject_reference: str,
        *,
        network: bool = False,
        override: Override | None = None,
        notes: str = "",
    ) -> Package:
        """Build a draft package for a subject (or its network) and write version 1.

        Raises:
            AccessDeniedError: the viewer does not build packages.
            AmbiguousRoutingError: the subject's postcode district spans forces; build again
                with an `Override`.
            NotFoundError: no such subject.
        """
        if not viewer.can_build:
            self._gate.audit(viewer, "denied", None, attempted="build", subject=subject_reference)
            raise AccessDeniedError("only national analysts and supervisors build packages")
        dossier = self._dossiers.dossier(subject_reference, network=network)
        routing = self._route(viewer, dossier.location, override)
        content = self.compose(dossier, routing, notes, network=network)
        now = self._gate.clock()
        version = PackageVersion(1, content.canonical_json(), content.sha256(), viewer.name, now)
        package = self._store.create_package(
            dossier.reference, dossier.risk.band, routing, viewer.name, now, version
        )
        self._gate.audit(
            viewer,
            "built",
            package.package_id,
            version=1,
            sha256=version.sha256,
            destination=routing.destination,
            routing=routing.method,
            network=network,
        )
        return package

    def revise(
        self,
        viewer: Viewer,
        package_ref: int | str,
        *,
        override: Override | None = None,
        notes: str | None = None,
    ) -> Package:
        """Rebuild from the current dossier; a changed content becomes a new version (draft).

        An approved or returned package goes back to draft and needs approval again.

        Raises:
            InputError: the package is past the point where it can change.
        """
        package = self._gate.visible(viewer, package_ref)
        self._gate.allowed(viewer, package, PackageAction.REVISE)
        target = next_state(package.state, PackageAction.REVISE)
        current = self.read(viewer, package.package_id, audit=False)
        network = current.content.network
        dossier = self._dossiers.dossier(package.subject_reference, network=network)
        if override is not None:
            routing = self._route(viewer, dossier.location, override)
        elif package.routing.method == "override":
            routing = package.routing
        else:
            routing = self._route(viewer, dossier.location, None)
        # A recommendation the analyst wrote stays; the band's default follows the band.
        recommended = current.content.recommended_action
        if recommended == RECOMMENDED_ACTIONS.get(current.content.risk.band):
            recommended = ""
        content = self.compose(
            dossier,
            routing,
            current.content.notes if notes is None else notes,
            recommended,
            network=network,
        )
        if content.sha256() == current.version.sha256 and routing == package.routing:
            return package
        now = self._gate.clock()
        number = package.version + 1
        version = PackageVersion(
            number, content.canonical_json(), content.sha256(), viewer.name, now
        )
        self._store.add_version(package.package_id, version)
        updated = replace(
            package,
            state=target,
            version=number,
            band=dossier.risk.band,
            routing=routing,
            approved_by="",
            approved_at=None,
            updated_at=now,
        )
        self._store.update_package(updated, package.state)
        self._gate.audit(
            viewer, "revised", package.package_id, version=number, sha256=version.sha256
        )
        return updated

    # --- reading ----------------------------------------------------------------------

    def listing(self, viewer: Viewer, states: set[PackageState] | None = None) -> list[Package]:
        """Packages the viewer may see, newest first (the listing itself is audited)."""
        if viewer.national:
            found = self._store.packages(states=states)
        elif viewer.force:
            found = [
                p
                for p in self._store.packages(destination=viewer.force, states=states)
                if viewer.can_see(p)
            ]
        else:
            found = []
        self._gate.audit(viewer, "listed", None, count=len(found))
        return found

    def show(self, viewer: Viewer, package_ref: int | str) -> Package:
        """The tracked package (audited as a view)."""
        package = self._gate.visible(viewer, package_ref)
        self._gate.audit(viewer, "viewed", package.package_id, what="summary")
        return package

    def read(
        self,
        viewer: Viewer,
        package_ref: int | str,
        version: int | None = None,
        *,
        fmt: str = "json",
        audit: bool = True,
    ) -> PackageView:
        """One version of the package (the current one by default), audited with its format.

        Raises:
            NotFoundError: no such package or version, or one the viewer may not see.
        """
        package = self._gate.visible(viewer, package_ref)
        versions = self._store.versions(package.package_id)
        number = version or package.version
        if not viewer.national:
            # A force reads what was issued to it, never a later draft.
            issued = [v.number for v in versions if v.issued_at is not None]
            number = version or (max(issued) if issued else package.version)
            if number not in issued:
                self._gate.audit(viewer, "denied", package.package_id, version=number)
                raise NotFoundError(f"no package {package_ref!r} version {number}")
        chosen = next((v for v in versions if v.number == number), None)
        if chosen is None:
            raise InputError(f"{package.reference} has no version {number}")
        if audit:
            self._gate.audit(
                viewer,
                "viewed",
                package.package_id,
                version=number,
                format=fmt,
                sha256=chosen.sha256,
            )
        return PackageView(package, chosen, PackageContent.from_json(chosen.content_json))

    def versions(self, viewer: Viewer, package_ref: int | str) -> list[PackageVersion]:
        """Every version's number, hash, author and issue time (audited)."""
        package = self._gate.visible(viewer, package_ref)
        found = self._store.versions(package.package_id)
        if not viewer.national:
            found = [v for v in found if v.issued_at is not None]
        self._gate.audit(viewer, "viewed", package.package_id, what="versions")
        return found
