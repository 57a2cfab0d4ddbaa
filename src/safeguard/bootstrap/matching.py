"""Hash lists, matching, and the matching service behind the web API.

`MatchingWiring` builds the list and match services, and the service side: API keys,
actions and webhooks, the served index and its change listener, upload hashing, rate
limits, seen uploads, report review, retroactive re-matching and audited list changes.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.bootstrap.processing import ProcessingWiring

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from safeguard.domain.file_hashes import FileHashes
    from safeguard.domain.matches import Match
    from safeguard.services.hash_lists.list_augmentation import ListAugmentation
    from safeguard.services.hash_lists.list_changes import ListAdministration
    from safeguard.services.hash_lists.management import ListService
    from safeguard.services.matching import MatchService
    from safeguard.services.platform.actions import ActionService
    from safeguard.services.platform.api_keys import ApiKeyService
    from safeguard.services.platform.index_keeper import IndexKeeper
    from safeguard.services.platform.report_review import ReportReview
    from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
    from safeguard.services.platform.seen_uploads import SeenUploadWriter
    from safeguard.services.platform.upload_matching import UploadMatchingService
    from safeguard.services.platform.webhook_delivery import WebhookDispatcher
    from safeguard.services.platform.webhook_urls import WebhookPolicy
    from safeguard.storage.shared_rate_limits import Limiter
    from safeguard.storage.sql.change_notices import ListChangeListener


class MatchingWiring(ProcessingWiring):
    """Adds list management, matching and the matching service (web API) to the stores."""

    @cached_property
    def list_service(self) -> ListService:
        """Importing, exporting, tuning and removing hash lists."""
        from safeguard.services.hash_lists.management import ListService

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

    @cached_property
    def api_keys(self) -> ApiKeyService:
        """Issuing, checking and revoking API keys."""
        from safeguard.services.platform.api_keys import ApiKeyService

        return ApiKeyService(self.service_store)

    @cached_property
    def service_actions(self) -> ActionService:
        """Block, quarantine, report and webhook actions on matches."""
        from safeguard.services.platform.actions import ActionService

        return ActionService(self.service_store)

    @cached_property
    def webhook_policy(self) -> WebhookPolicy:
        """Which destinations webhooks may reach (internal ones only when allow-listed)."""
        from safeguard.services.platform.webhook_urls import WebhookPolicy

        return WebhookPolicy.from_setting(self.settings.webhook_allowed_hosts)

    @cached_property
    def webhook_dispatcher(self) -> WebhookDispatcher:
        """Background sender of queued webhook deliveries (started by the web app)."""
        from safeguard.services.platform.webhook_delivery import WebhookDispatcher
        from safeguard.services.platform.webhook_sending import CheckedSender

        dispatcher = WebhookDispatcher(self.service_store, send=CheckedSender(self.webhook_policy))
        self.service_actions.set_webhook_listener(dispatcher.wake)
        return dispatcher

    @cached_property
    def index_keeper(self) -> IndexKeeper:
        """This process's matcher, kept in step with the shared list store."""
        from safeguard.services.matching import MatchService
        from safeguard.services.platform.index_keeper import IndexKeeper

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
        from safeguard.services.platform.upload_matching import UploadMatchingService

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
        from safeguard.services.platform.seen_uploads import SeenUploadWriter

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
        from safeguard.services.platform.report_review import ReportReview

        return ReportReview(self.service_store)

    @cached_property
    def retroactive_jobs(self) -> RetroactiveJobs:
        """Re-matching of past uploads after list changes, as resumable jobs.

        The web app starts their background worker; the CLI runs them itself.
        """
        from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
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
        from safeguard.services.hash_lists.list_changes import ListAdministration
        from safeguard.services.hash_lists.management import ImportOutcome

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

    @cached_property
    def list_augmentation(self) -> ListAugmentation:
        """A list keeper publishes augmentation hashes of held originals with a list."""
        from safeguard.services.hash_lists.list_augmentation import ListAugmentation

        admin = self.list_administration
        return ListAugmentation(
            self.hash_list_store,
            admin.add_entries,
            self.settings.max_image_pixels,
        )
