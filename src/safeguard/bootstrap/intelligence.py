"""The intelligence side: referrals, subjects, links, priorities and intelligence packages."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.bootstrap.matching import MatchingWiring

if TYPE_CHECKING:
    from safeguard.domain.packages import DeadlinePolicy
    from safeguard.services.intel.assessments import PriorityService
    from safeguard.services.intel.dashboard import DashboardService
    from safeguard.services.intel.dissemination import DisseminationService
    from safeguard.services.intel.intake import IntakeService
    from safeguard.services.intel.links import LinkService
    from safeguard.services.intel.outcomes import OutcomeService
    from safeguard.services.intel.package_documents import PackageDocuments
    from safeguard.services.intel.package_gate import PackageGate
    from safeguard.services.intel.packages import DossierSource, PackageService
    from safeguard.services.intel.routing import ForceRouter
    from safeguard.services.intel.subjects import SubjectService


class IntelligenceWiring(MatchingWiring):
    """Adds the intelligence core (intake matches referrals against the lists) and packages."""

    @cached_property
    def intel_links(self) -> LinkService:
        """Linking subjects (rarity-weighted, time-windowed IP), networks, analyst links."""
        from safeguard.services.intel.links import LinkService

        return LinkService(self.intel_store)

    @cached_property
    def intel_priorities(self) -> PriorityService:
        """Priority bands from the rule set (shipped, or `intel_rules`), and overrides."""
        from pathlib import Path

        from safeguard.services.intel.assessments import PriorityService
        from safeguard.services.intel.priorities import load_rule_set

        path = Path(self.settings.intel_rules).expanduser() if self.settings.intel_rules else None
        return PriorityService(self.intel_store, load_rule_set(path))

    @cached_property
    def intel_subjects(self) -> SubjectService:
        """Ranked subjects, one subject's record, facts, merge and split."""
        from safeguard.services.intel.subjects import SubjectService

        return SubjectService(self.intel_store, self.intel_links, self.intel_priorities)

    @cached_property
    def intel_intake(self) -> IntakeService:
        """Referrals in, matched against the lists, resolved to subjects."""
        from safeguard.services.intel.intake import IntakeService, file_matcher

        return IntakeService(
            self.intel_store,
            self.intel_subjects,
            file_matcher(self.match_service.match_digests),
        )

    @cached_property
    def force_router(self) -> ForceRouter:
        """Postcode to force, from the postcode directory shipped on PyPI (offline)."""
        from safeguard.services.intel.routing import ForceRouter
        from safeguard.storage.postcode_directory import ShippedPostcodeDirectory

        return ForceRouter(ShippedPostcodeDirectory())

    @cached_property
    def package_deadlines(self) -> DeadlinePolicy:
        """Deadlines by risk band from ``package_deadline_hours``."""
        from safeguard.domain.errors import ConfigurationError, InputError
        from safeguard.domain.packages import DeadlinePolicy

        try:
            return DeadlinePolicy.from_hours(self.settings.package_deadline_hours)
        except InputError as exc:
            raise ConfigurationError(f"package_deadline_hours: {exc}") from exc

    @cached_property
    def package_gate(self) -> PackageGate:
        """Access checks and audit shared by the package use cases."""
        from safeguard.services.intel.package_gate import PackageGate

        return PackageGate(self.package_store)

    @cached_property
    def package_dossiers(self) -> DossierSource:
        """Where the package builder reads subjects from (the intelligence core)."""
        from safeguard.services.intel.package_sources import IntelCoreDossiers

        return IntelCoreDossiers(self.intel_subjects)

    @cached_property
    def packages(self) -> PackageService:
        """Building, revising and reading packages."""
        from safeguard.services.intel.packages import PackageService

        return PackageService(
            self.package_gate, self.package_dossiers, self.force_router, self.package_deadlines
        )

    @cached_property
    def package_documents(self) -> PackageDocuments:
        """Packages as HTML, JSON and PDF documents."""
        from safeguard.services.intel.package_documents import PackageDocuments

        return PackageDocuments(self.packages)

    @cached_property
    def dissemination(self) -> DisseminationService:
        """Approve, send, acknowledge, return, action, close."""
        from safeguard.services.intel.dissemination import DisseminationService

        return DisseminationService(self.package_gate, self.packages, self.package_deadlines)

    @cached_property
    def package_outcomes(self) -> OutcomeService:
        """Outcome reports from forces."""
        from safeguard.services.intel.outcomes import OutcomeService

        return OutcomeService(self.package_gate, self.case_store)

    @cached_property
    def operation_dashboard(self) -> DashboardService:
        """Figures per force, nationally and over time."""
        from safeguard.services.intel.dashboard import DashboardService

        return DashboardService(
            self.package_gate, self.case_store, title=self.settings.operation_name
        )
