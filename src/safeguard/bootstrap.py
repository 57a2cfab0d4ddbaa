"""Composition root: builds the services from settings, naming the concrete adapters.

Interfaces call `build_services(settings)` and use what it returns; nothing else in the
package chooses an adapter. Each feature adds a cached property for its service here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.batch.local_pool import LocalPoolRunner
from safeguard.hashing.contract import HashOptions
from safeguard.settings import Settings
from safeguard.storage.store_states import SchemaState, StoreAccess, StoreStatus

__all__ = [
    "SchemaState",
    "Services",
    "StoreAccess",
    "StoreStatus",
    "build_services",
    "store_status",
]

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from sqlalchemy import Engine

    from safeguard.batch.contract import BatchRunner
    from safeguard.domain.farm import ScanJob
    from safeguard.domain.file_hashes import FileHashes
    from safeguard.domain.matches import Match
    from safeguard.domain.packages import DeadlinePolicy
    from safeguard.extraction.contract import ExtractionLimits
    from safeguard.services.actions import ActionService, WebhookDispatcher
    from safeguard.services.api_keys import ApiKeyService
    from safeguard.services.case_reports import CaseReportService
    from safeguard.services.cases import CaseService
    from safeguard.services.demo_tour import DemoTour
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
    from safeguard.services.list_augmentation import ListAugmentation
    from safeguard.services.list_changes import ListAdministration
    from safeguard.services.lists import ListService
    from safeguard.services.matching import MatchService
    from safeguard.services.people.accounts import UserAdministration
    from safeguard.services.people.case_access import CaseAccessService
    from safeguard.services.people.passwords import Passwords
    from safeguard.services.people.sign_in import SignInService
    from safeguard.services.report_review import ReportReview
    from safeguard.services.retroactive_jobs import RetroactiveJobs
    from safeguard.services.review.exhibit_content import ExhibitContent
    from safeguard.services.review.grading import ReviewService
    from safeguard.services.review.preparation import ReviewPreparation
    from safeguard.services.review.publication import PublicationService
    from safeguard.services.review.vics_exchange import VicsExchange
    from safeguard.services.review.wellbeing import WellbeingPreferences
    from safeguard.services.seen_uploads import SeenUploadWriter
    from safeguard.services.triage import TriageService
    from safeguard.services.triage_farm import FarmJobResult, TriageFarm
    from safeguard.services.upload_matching import IndexKeeper, UploadMatchingService
    from safeguard.services.webhook_urls import WebhookPolicy
    from safeguard.storage.intel_store import IntelStore
    from safeguard.storage.package_store import PackageStore
    from safeguard.storage.redis_rate_limits import Limiter
    from safeguard.storage.service_store import ServiceStore
    from safeguard.storage.sql.case_store import SqlCaseStore
    from safeguard.storage.sql.change_notices import ListChangeListener
    from safeguard.storage.sql.hash_list_store import SqlHashListStore
    from safeguard.storage.sql.people_store import SqlPeopleStore
    from safeguard.storage.sql.review_store import SqlReviewStore
    from safeguard.storage.sql.scan_queue import SqlScanQueue


@dataclass
class Services:
    """Lazily built services for one settings object; cheap to create, build on first use."""

    settings: Settings
    access: StoreAccess = field(default=StoreAccess.CREATE)
    one_command: bool = False

    @cached_property
    def engine(self) -> Engine:
        """The database engine, opened as `access` allows (see `store_access.open_store`)."""
        # Imported here: commands without a store (`safeguard hash`) never load SQLAlchemy.
        from safeguard.storage.sql.store_access import open_store

        return open_store(
            self.settings.resolved_database_url,
            self.access,
            is_default=not self.settings.database_url,
            pooled=not self.one_command,
            sqlite_busy_timeout_ms=self.settings.sqlite_busy_timeout_ms,
        )

    @cached_property
    def hash_options(self) -> HashOptions:
        """Hashing options from settings (PDQ mode, quality floor, pixel limit)."""
        return HashOptions(
            pdq_mode="reference" if self.settings.pdq_mode == "reference" else "fast",
            max_image_pixels=self.settings.max_image_pixels,
            pdq_quality_floor=self.settings.pdq_quality_floor,
        )

    def batch_runner(self, workers: int | None = None) -> BatchRunner:
        """A runner for the settings' backend; `workers` None or 0 means the settings' count.

        The ``local`` backend is a process pool on this machine. The ``ray`` backend runs
        on the cluster at ``ray_address`` (a local Ray when empty); there a worker count
        of 0 (the default setting) means every CPU of the cluster.
        """
        if self.settings.batch_backend == "ray":
            from safeguard.batch.ray_cluster import RayRunner

            return RayRunner(self.settings.ray_address or None, workers or self.settings.workers)
        # Imported here: it pulls in numpy, Pillow and pdqhash, which other commands never need.
        from safeguard.services.hashing import WORKER_MODULES

        count = workers if workers else self.settings.resolved_workers
        return LocalPoolRunner(count, preload=WORKER_MODULES)

    @cached_property
    def case_store(self) -> SqlCaseStore:
        """Cases, exhibits, scan results and the audit log, in the shared database."""
        from safeguard.storage.sql.case_store import SqlCaseStore

        return SqlCaseStore(self.engine)

    @cached_property
    def case_service(self) -> CaseService:
        """Opening and finding cases; the audit log."""
        from safeguard.services.cases import CaseService

        return CaseService(self.case_store)

    @cached_property
    def case_report_service(self) -> CaseReportService:
        """HTML/JSON/CSV reports, VICS case export and hashdeep manifests of cases."""
        from safeguard.extraction.registry import open_exhibit
        from safeguard.reporting.pdf_rendering import html_to_pdf
        from safeguard.services.case_reports import CaseReportService

        browser = self.settings.chromium or None
        return CaseReportService(
            self.case_service,
            open_exhibit=open_exhibit,
            print_pdf=lambda html: html_to_pdf(html, browser=browser),
            grades_of=self.review.graded_paths,
            limits=self.extraction_limits,
        )

    @property
    def extraction_limits(self) -> ExtractionLimits:
        """Archive bomb and nesting guards from ``SAFEGUARD_ARCHIVE_MAX_*``."""
        from safeguard.extraction.contract import ExtractionLimits

        return ExtractionLimits(
            max_depth=self.settings.archive_max_depth,
            max_expanded_bytes=self.settings.archive_max_expanded_bytes,
            max_ratio=float(self.settings.archive_max_ratio),
        )

    @cached_property
    def triage_service(self) -> TriageService:
        """Forensic triage: scans exhibits into cases, resumable."""
        from safeguard.extraction.registry import open_exhibit
        from safeguard.services.matching import MatchService
        from safeguard.services.triage import TriageService

        # Lists are fixed for a scan run (their versions are recorded when it starts), so the
        # scan's matcher skips the per-file revision check the shared one makes.
        matcher = MatchService(
            self.hash_list_store,
            index_dir=self.settings.data_dir / "index",
            default_threshold=self.settings.pdq_threshold,
            quality_floor=self.settings.pdq_quality_floor,
            auto_refresh=False,
        )
        return TriageService(
            self.case_service,
            open_exhibit=open_exhibit,
            match=matcher.match_file_hashes,
            lists=self.hash_list_store.all_lists,
            runner_factory=self.batch_runner,
            prepare_matcher=matcher.refresh,
            # One store query per algorithm for a whole commit batch, not three per file.
            match_many=matcher.match_many,
        )

    @cached_property
    def hash_list_store(self) -> SqlHashListStore:
        """Hash lists and their entries, in the shared database."""
        from safeguard.storage.sql.hash_list_store import SqlHashListStore

        return SqlHashListStore(self.engine)

    @cached_property
    def list_service(self) -> ListService:
        """Importing, exporting, tuning and removing hash lists."""
        from safeguard.services.lists import ListService

        return ListService(self.hash_list_store, default_threshold=self.settings.pdq_threshold)

    @cached_property
    def match_service(self) -> MatchService:
        """Matching against the enabled lists, with a PDQ index saved under data_dir/index."""
        from safeguard.services.matching import MatchService

        return MatchService(
            self.hash_list_store,
            index_dir=self.settings.data_dir / "index",
            default_threshold=self.settings.pdq_threshold,
            quality_floor=self.settings.pdq_quality_floor,
        )

    # --- matching service (web API) ------------------------------------------------------

    @cached_property
    def service_store(self) -> ServiceStore:
        """API keys, seen-upload hashes, quarantine, reports, webhooks and audit of the service."""
        from safeguard.storage.sql.service_store import SqlServiceStore

        return SqlServiceStore(self.engine)

    @cached_property
    def api_keys(self) -> ApiKeyService:
        """Issuing, checking and revoking API keys."""
        from safeguard.services.api_keys import ApiKeyService

        return ApiKeyService(self.service_store)

    @cached_property
    def service_actions(self) -> ActionService:
        """Block, quarantine, report and webhook actions on matches."""
        from safeguard.services.actions import ActionService

        return ActionService(self.service_store)

    @cached_property
    def webhook_policy(self) -> WebhookPolicy:
        """Which destinations webhooks may reach (internal ones only when allow-listed)."""
        from safeguard.services.webhook_urls import WebhookPolicy

        return WebhookPolicy.from_setting(self.settings.webhook_allowed_hosts)

    @cached_property
    def webhook_dispatcher(self) -> WebhookDispatcher:
        """Background sender of queued webhook deliveries (started by the web app)."""
        from safeguard.services.actions import WebhookDispatcher
        from safeguard.services.webhook_sending import CheckedSender

        dispatcher = WebhookDispatcher(self.service_store, send=CheckedSender(self.webhook_policy))
        self.service_actions.set_webhook_listener(dispatcher.wake)
        return dispatcher

    @cached_property
    def index_keeper(self) -> IndexKeeper:
        """This process's matcher, kept in step with the shared list store."""
        from safeguard.services.matching import MatchService
        from safeguard.services.upload_matching import IndexKeeper

        # Its own matcher: the keeper decides when to catch up (auto_refresh off).
        lists = self.hash_list_store
        matcher = MatchService(
            lists,
            index_dir=self.settings.data_dir / "index",
            default_threshold=self.settings.pdq_threshold,
            quality_floor=self.settings.pdq_quality_floor,
            auto_refresh=False,
        )
        return IndexKeeper(matcher, lists, poll_interval=self.settings.index_poll_ms / 1000)

    @cached_property
    def upload_hasher(self) -> Callable[..., FileHashes]:
        """Hashes uploads for the service, with the upload pixel and expansion limits.

        In decode subprocesses with memory and time limits (`IsolatedHasher`), or in the
        calling thread when ``decode_workers`` is 0.
        """
        from safeguard.hashing.pipeline import hash_bytes

        # Uploads get every query-side recovery step: rotations, flips, trimmed borders and
        # pictures inside screenshots (docs/robustness.md: within 3x of plain PDQ).
        options = replace(
            self.hash_options,
            dihedral=True,
            recovery=True,
            max_image_pixels=self.settings.upload_max_pixels,
            max_expansion=float(self.settings.upload_max_expansion),
        )
        if self.settings.decode_workers <= 0:
            return lambda data, name, **_limits: hash_bytes(data, name, options)
        from safeguard.batch.isolated_decoding import IsolatedHasher

        return IsolatedHasher(
            options,
            workers=self.settings.decode_workers,
            deadline_seconds=float(self.settings.decode_timeout_seconds),
            wait_seconds=float(self.settings.decode_wait_seconds),
            memory_bytes=self.settings.decode_memory_mb * 1024 * 1024,
        )

    @cached_property
    def upload_matching(self) -> UploadMatchingService:
        """Hash, match and act on uploads or platform hashes."""
        from safeguard.services.upload_matching import UploadMatchingService

        return UploadMatchingService(
            self.upload_hasher,
            self.index_keeper,
            self.service_actions,
            self.service_store,
            seen_writer=self.seen_writer,
        )

    @cached_property
    def list_change_listener(self) -> ListChangeListener | None:
        """Wakes the index keeper when a list change commits (PostgreSQL); None on SQLite.

        Started by the web app, so that every replica serves a change within about a
        second of its commit without polling the store (or each other) that often.
        """
        if self.engine.dialect.name != "postgresql":
            return None
        from safeguard.storage.sql.change_notices import ListChangeListener

        return ListChangeListener(self.settings.resolved_database_url, self.index_keeper.wake)

    @cached_property
    def rate_limiter(self) -> Limiter:
        """Rate limits per key and per client address, shared or per process.

        Shared through Redis when ``redis_url`` is set, else through the database when it
        is PostgreSQL; per process on SQLite.
        """
        from safeguard.storage.memory_rate_limits import TokenBucketLimiter

        local = TokenBucketLimiter()
        if not self.settings.redis_url:
            if self.engine.dialect.name != "postgresql":
                return local
            from safeguard.storage.sql.rate_limits import SqlRateLimiter

            # Opening `engine` above brought the schema (and the buckets' table) up to date.
            return SqlRateLimiter(self.engine, local)
        from safeguard.storage.redis_rate_limits import RedisRateLimiter

        # One Redis may serve several deployments: each store's buckets have their own keys.
        prefix = f"safeguard:{self.hash_list_store.store_identity()}:"
        return RedisRateLimiter.from_url(self.settings.redis_url, local, prefix)

    @cached_property
    def seen_writer(self) -> SeenUploadWriter:
        """Stores unmatched uploads' hashes in batches (started by the web app)."""
        from safeguard.services.seen_uploads import SeenUploadWriter

        keeper = self.index_keeper

        def match(hashes: FileHashes) -> Sequence[Match]:
            with keeper.reading() as matcher:
                return matcher.match_file_hashes(hashes)

        return SeenUploadWriter(
            self.service_store,
            self.hash_list_store.current_revision,
            keeper,
            match,
            self.service_actions,
        )

    @cached_property
    def report_review(self) -> ReportReview:
        """People's decisions on queued reports, each audited in the same transaction."""
        from safeguard.services.report_review import ReportReview

        return ReportReview(self.service_store)

    @cached_property
    def retroactive_jobs(self) -> RetroactiveJobs:
        """Re-matching of past uploads after list changes, as resumable jobs.

        The web app starts their background worker; the CLI runs them itself.
        """
        from safeguard.services.retroactive_jobs import RetroactiveJobs
        from safeguard.storage.sql.retroactive_jobs import SqlRetroactiveJobStore

        return RetroactiveJobs(
            SqlRetroactiveJobStore(self.engine),
            self.service_store,
            self.hash_list_store,
            self.service_actions,
            self.settings.pdq_threshold,
            max_hits=self.settings.retroactive_hit_limit or None,
            batch_size=self.settings.retroactive_batch_uploads,
            lease_seconds=self.settings.retroactive_lease_seconds,
            rematch_seen=lambda stop: self.seen_writer.rematch_marked(stop),  # built if run
        )

    @cached_property
    def list_administration(self) -> ListAdministration:
        """List management through the service: audited, re-matched, served at once."""
        from safeguard.domain.hash_lists import HashList
        from safeguard.services.list_changes import ListAdministration
        from safeguard.services.lists import ImportOutcome

        list_service = self.list_service

        def import_file(path: Path, current: HashList, format_name: str | None) -> ImportOutcome:
            return list_service.import_file(
                path,
                name=current.name,
                kind=current.kind,
                format_name=format_name,
                source=current.source or None,
                version=current.version or None,
            )

        return ListAdministration(
            self.hash_list_store,
            self.service_store,
            self.index_keeper,
            self.retroactive_jobs,
            import_file,
            list_service=list_service,
            webhook_policy=self.webhook_policy,
        )

    # --- intelligence packages (issue 15) ------------------------------------------------

    @cached_property
    def package_store(self) -> PackageStore:
        """Packages, versions, outcomes and their audit log, in the shared database."""
        from safeguard.storage.sql.package_store import SqlPackageStore

        return SqlPackageStore(self.engine)

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

    @cached_property
    def list_augmentation(self) -> ListAugmentation:
        """A list keeper publishes augmentation hashes of held originals with a list."""
        from safeguard.services.list_augmentation import ListAugmentation

        admin = self.list_administration
        return ListAugmentation(
            self.hash_list_store,
            admin.add_entries,
            self.settings.max_image_pixels,
        )

    # --- the triage farm ---------------------------------------------------------------------

    @cached_property
    def scan_queue(self) -> SqlScanQueue:
        """The farm's queue of exhibit scans, in the case database."""
        from safeguard.storage.sql.scan_queue import SqlScanQueue

        return SqlScanQueue(self.engine)

    def triage_farm(self, workers: int | None = None, worker_name: str = "") -> TriageFarm:
        """Queue exhibits and work through the queue on the settings' batch backend.

        Each task scans one exhibit on whichever node the backend picks, with that node's
        own services built from these settings (same case database, local process pool).
        """
        import functools
        import os
        import socket

        from safeguard.services.triage_farm import TriageFarm

        return TriageFarm(
            self.scan_queue,
            self.case_store,
            self.batch_runner(workers),
            functools.partial(run_farm_job, self.settings),
            worker_name or f"{socket.gethostname()}:{os.getpid()}",
        )

    # --- people and access ------------------------------------------------------------------

    @cached_property
    def people_store(self) -> SqlPeopleStore:
        """Users, sessions, case access lists and preferences, in the shared database."""
        from safeguard.storage.sql.people_store import SqlPeopleStore

        return SqlPeopleStore(self.engine)

    @cached_property
    def passwords(self) -> Passwords:
        """Argon2id password hashing at the settings' cost."""
        from safeguard.services.people.passwords import PasswordPolicy, Passwords

        return Passwords(
            PasswordPolicy(
                time_cost=self.settings.password_time_cost,
                memory_kib=self.settings.password_memory_kib,
            )
        )

    @cached_property
    def users(self) -> UserAdministration:
        """Creating, disabling and changing accounts (audited)."""
        from safeguard.services.people.accounts import UserAdministration

        return UserAdministration(self.people_store, self.passwords, self.case_service.audit)

    @cached_property
    def sign_in(self) -> SignInService:
        """Sign-in, sessions and lock-out for the web interface."""
        from datetime import timedelta

        from safeguard.services.people.sign_in import SessionPolicy, SignInService

        policy = SessionPolicy(
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            max_age=timedelta(hours=self.settings.session_max_hours),
            max_failures=self.settings.sign_in_max_failures,
            lockout=timedelta(minutes=self.settings.sign_in_lockout_minutes),
        )
        return SignInService(self.people_store, self.passwords, self.case_service.audit, policy)

    @cached_property
    def case_access(self) -> CaseAccessService:
        """Per-case access lists."""
        from safeguard.services.people.case_access import CaseAccessService

        return CaseAccessService(self.people_store, self.case_service.audit)

    # --- intelligence ----------------------------------------------------------------------

    @cached_property
    def intel_store(self) -> IntelStore:
        """Referrals, subjects, links, priorities and their audit, in the shared database."""
        from safeguard.storage.sql.intel_store import SqlIntelStore

        return SqlIntelStore(self.engine)

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

    # --- examiner review ------------------------------------------------------------------

    @cached_property
    def review_store(self) -> SqlReviewStore:
        """Review items, grade history, schemes, reveal tickets and publications."""
        from safeguard.storage.sql.review_store import SqlReviewStore

        return SqlReviewStore(self.engine)

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

    # --- the newcomer's tour ----------------------------------------------------------------

    @cached_property
    def demo_tour(self) -> DemoTour:
        """The README's main job: the whole flow on generated benign data."""
        from safeguard.services.demo_tour import DemoTour

        workers = self.settings.resolved_workers
        return DemoTour(
            lists=self.list_service,
            matcher=self.match_service,
            cases=self.case_service,
            triage=self.triage_service,
            reports=self.case_report_service,
            hash_options=self.hash_options,
            runner=self.batch_runner(workers),
            workers=workers,
        )


def run_farm_job(settings: Settings, job: ScanJob) -> FarmJobResult:
    """One farm task: scan a queued exhibit into its case on whichever node runs this.

    The node builds its own services from `settings` (the shared case database) and scans
    with its own process pool; the scan resumes from whatever an earlier attempt committed.
    """
    import socket
    import time
    from pathlib import Path

    from safeguard.services.triage_farm import FarmJobResult

    started = time.monotonic()
    local = settings.with_overrides(batch_backend="local")
    services = build_services(local)
    try:
        outcome = services.triage_service.scan(
            Path(job.exhibit_path),
            job.case_number,
            exhibit_reference=job.exhibit_reference,
            examiner=job.submitted_by,
        )
    finally:
        services.engine.dispose()
    return FarmJobResult(
        job.job_id,
        outcome.recorded,
        outcome.skipped,
        {status.value: count for status, count in outcome.counts.items()},
        socket.gethostname(),
        time.monotonic() - started,
    )


def build_services(
    settings: Settings, access: StoreAccess = StoreAccess.CREATE, *, one_command: bool = False
) -> Services:
    """Wire the services for `settings`; nothing touches disk or network until used.

    Args:
        settings: the configuration.
        access: what the services may do to the store: ``CREATE`` (library default) creates
            and migrates as needed; the CLI passes ``WRITE`` or ``READ`` (see
            `store_access`).
        one_command: the services serve one command and exit (no connection pool).
    """
    return Services(settings, access, one_command)


def store_status(settings: Settings) -> StoreStatus:
    """The resolved store and what it holds, changing nothing (``safeguard db info``)."""
    from safeguard.storage.sql.store_access import inspect_store

    return inspect_store(settings.resolved_database_url)
