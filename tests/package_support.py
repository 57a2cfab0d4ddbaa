"""Shared pieces for package tests: a settable clock, the people in the loop, the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from safeguard.bootstrap import Services
from safeguard.domain.package_access import PackageRole, Viewer
from safeguard.domain.packages import DeadlinePolicy
from safeguard.services.intel.dashboard import DashboardService
from safeguard.services.intel.dissemination import DisseminationService
from safeguard.services.intel.outcomes import OutcomeService
from safeguard.services.intel.package_documents import PackageDocuments
from safeguard.services.intel.package_gate import PackageGate
from safeguard.services.intel.packages import PackageService
from safeguard.services.intel.routing import ForceRouter
from safeguard.services.intel.synthetic_dossiers import SyntheticDossiers
from safeguard.storage.case_store import CaseStore
from safeguard.storage.package_store import PackageStore
from safeguard.storage.postcode_directory import ShippedPostcodeDirectory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ANALYST = Viewer("ana.analyst", frozenset({PackageRole.NATIONAL_ANALYST}))
ANALYST_2 = Viewer("andy.analyst", frozenset({PackageRole.NATIONAL_ANALYST}))
SUPERVISOR = Viewer("sue.supervisor", frozenset({PackageRole.NATIONAL_SUPERVISOR}))
AUDITOR = Viewer("aud.itor", frozenset({PackageRole.AUDITOR}))
KENT_CONTACT = Viewer("kent.spoc", frozenset({PackageRole.FORCE_CONTACT}), "kent")
KENT_OFFICER = Viewer("kent.officer", frozenset({PackageRole.FORCE_OFFICER}), "kent")
ESSEX_CONTACT = Viewer("essex.spoc", frozenset({PackageRole.FORCE_CONTACT}), "essex")


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@cache
def shared_directory() -> ShippedPostcodeDirectory:
    """One directory per test session: letters load once (a few seconds for all)."""
    return ShippedPostcodeDirectory()


@dataclass
class PackageDesk:
    """Every package service over one store, with a fake clock and synthetic subjects."""

    store: PackageStore
    cases: CaseStore
    clock: FakeClock
    dossiers: SyntheticDossiers
    packages: PackageService
    documents: PackageDocuments
    dissemination: DisseminationService
    outcomes: OutcomeService
    dashboard: DashboardService


def package_desk(
    store: PackageStore, cases: CaseStore, clock: FakeClock | None = None
) -> PackageDesk:
    clock = clock or FakeClock()
    gate = PackageGate(store, clock)
    dossiers = SyntheticDossiers()
    deadlines = DeadlinePolicy()
    packages = PackageService(gate, dossiers, ForceRouter(shared_directory()), deadlines)
    return PackageDesk(
        store=store,
        cases=cases,
        clock=clock,
        dossiers=dossiers,
        packages=packages,
        documents=PackageDocuments(packages),
        dissemination=DisseminationService(gate, packages, deadlines),
        outcomes=OutcomeService(gate, cases),
        dashboard=DashboardService(gate, cases, title="Operation Test"),
    )


def seed_subject(services: Services, local: str = "kay", postcode: str = "CT1 2EH") -> str:
    """Ingest one referral into the intelligence core; the subject's reference for packages."""
    from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
    from tests.intel_factories import email, listed, referral

    found = Identifier.of(IdentifierKind.POSTCODE, postcode)
    services.intel_intake.ingest(
        [referral(f"R-{local}", [email(local), found], [listed(f"E-{local}")])]
    )
    for ranked in services.intel_subjects.ranked():
        if ranked.subject.label.startswith(local) or local in ranked.subject.label:
            return str(ranked.subject.subject_id)
    return str(services.intel_subjects.ranked()[0].subject.subject_id)
