"""The examiner's side of a case: review, grading, publication and case reports.

Case reports live here because they carry the review's grades.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.bootstrap.cases import CaseWiring
from safeguard.bootstrap.matching import MatchingWiring

if TYPE_CHECKING:
    from safeguard.services.examiner.case_reports import CaseReportService
    from safeguard.services.review.exhibit_content import ExhibitContent
    from safeguard.services.review.grading import ReviewService
    from safeguard.services.review.preparation import ReviewPreparation
    from safeguard.services.review.publication import PublicationService
    from safeguard.services.review.vics_exchange import VicsExchange
    from safeguard.services.review.wellbeing import WellbeingPreferences


class ReviewWiring(CaseWiring, MatchingWiring):
    """Adds examiner review and case reports; publication refreshes the served index."""

    @cached_property
    def case_report_service(self) -> CaseReportService:
        """HTML/JSON/CSV reports, VICS case export and hashdeep manifests of cases."""
        from safeguard.extraction.registry import open_exhibit
        from safeguard.reporting.pdf_rendering import html_to_pdf
        from safeguard.services.examiner.case_reports import CaseReportService

        browser = self.settings.chromium or None
        return CaseReportService(
            self.case_service,
            open_exhibit=open_exhibit,
            print_pdf=lambda html: html_to_pdf(html, browser=browser),
            grades_of=self.review.graded_paths,
            limits=self.extraction_limits,
        )

    @cached_property
    def exhibit_content(self) -> ExhibitContent:
        """Reads chosen files back from exhibits, read-only, for thumbnails and grouping."""
        from safeguard.extraction.contract import ExtractionLimits
        from safeguard.extraction.registry import open_exhibit
        from safeguard.services.review.exhibit_content import ExhibitContent

        limits = ExtractionLimits(
            max_depth=self.settings.archive_max_depth,
            max_expanded_bytes=self.settings.archive_max_expanded_bytes,
            max_ratio=self.settings.archive_max_ratio,
        )
        return ExhibitContent(open_exhibit, limits)

    @cached_property
    def review_preparation(self) -> ReviewPreparation:
        """Lists an exhibit's items for review and groups near-duplicates."""
        from safeguard.services.review.preparation import ReviewPreparation

        return ReviewPreparation(
            self.case_service,
            self.review_store,
            self.exhibit_content,
            group_threshold=self.settings.pdq_threshold,
        )

    @cached_property
    def review(self) -> ReviewService:
        """The examiner's grid: pages, grading, reveals, schemes."""
        from safeguard.services.review.grading import ReviewService

        return ReviewService(self.case_service, self.review_store, self.exhibit_content)

    @cached_property
    def review_publication(self) -> PublicationService:
        """Four-eyes publication of graded items to the local hash lists."""
        from safeguard.services.review.publication import PublicationService

        def refresh_served_index() -> None:
            # Only a process that serves matching holds a keeper; others poll the store.
            if "index_keeper" in self.__dict__:
                self.index_keeper.ensure_fresh(force=True)

        return PublicationService(
            self.case_service, self.review_store, self.hash_list_store, refresh_served_index
        )

    @cached_property
    def review_exchange(self) -> VicsExchange:
        """VICS case files in and out of a case's grades."""
        from safeguard.services.review.vics_exchange import VicsExchange

        return VicsExchange(self.case_service, self.review)

    @cached_property
    def wellbeing(self) -> WellbeingPreferences:
        """Per-examiner blur, greyscale and break reminders."""
        from safeguard.services.review.wellbeing import WellbeingPreferences

        return WellbeingPreferences(self.people_store)
