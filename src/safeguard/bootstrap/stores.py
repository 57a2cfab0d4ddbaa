"""The database engine and each feature's SQL store on it, opened on first use.

`StoreWiring` is the base of `safeguard.bootstrap.Services`: it holds the settings and what
the services may do to the store. Every store shares the one engine, so one database holds
every feature's tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.settings import Settings
from safeguard.storage.store_states import StoreAccess, StoreStatus

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from safeguard.storage.intel_store import IntelStore
    from safeguard.storage.package_store import PackageStore
    from safeguard.storage.service_store import ServiceStore
    from safeguard.storage.sql.case_store import SqlCaseStore
    from safeguard.storage.sql.hash_list_store import SqlHashListStore
    from safeguard.storage.sql.people_store import SqlPeopleStore
    from safeguard.storage.sql.review_store import SqlReviewStore
    from safeguard.storage.sql.scan_queue import SqlScanQueue


@dataclass
class StoreWiring:
    """Settings, store access, the engine and the stores; cheap to create, built on first use.

    Fields:
        settings: the configuration every part of `Services` reads.
        access: what the services may do to the store (see `store_access.open_store`).
        one_command: the services serve one command and exit (no connection pool).
    """

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
    def case_store(self) -> SqlCaseStore:
        """Cases, exhibits, scan results and the audit log, in the shared database."""
        from safeguard.storage.sql.case_store import SqlCaseStore

        return SqlCaseStore(self.engine)

    @cached_property
    def hash_list_store(self) -> SqlHashListStore:
        """Hash lists and their entries, in the shared database."""
        from safeguard.storage.sql.hash_list_store import SqlHashListStore

        return SqlHashListStore(self.engine)

    @cached_property
    def service_store(self) -> ServiceStore:
        """API keys, seen-upload hashes, quarantine, reports, webhooks and audit of the service."""
        from safeguard.storage.sql.service_store import SqlServiceStore

        return SqlServiceStore(self.engine)

    @cached_property
    def package_store(self) -> PackageStore:
        """Packages, versions, outcomes and their audit log, in the shared database."""
        from safeguard.storage.sql.package_store import SqlPackageStore

        return SqlPackageStore(self.engine)

    @cached_property
    def scan_queue(self) -> SqlScanQueue:
        """The farm's queue of exhibit scans, in the case database."""
        from safeguard.storage.sql.scan_queue import SqlScanQueue

        return SqlScanQueue(self.engine)

    @cached_property
    def people_store(self) -> SqlPeopleStore:
        """Users, sessions, case access lists and preferences, in the shared database."""
        from safeguard.storage.sql.people_store import SqlPeopleStore

        return SqlPeopleStore(self.engine)

    @cached_property
    def intel_store(self) -> IntelStore:
        """Referrals, subjects, links, priorities and their audit, in the shared database."""
        from safeguard.storage.sql.intel_store import SqlIntelStore

        return SqlIntelStore(self.engine)

    @cached_property
    def review_store(self) -> SqlReviewStore:
        """Review items, grade history, schemes, reveal tickets and publications."""
        from safeguard.storage.sql.review_store import SqlReviewStore

        return SqlReviewStore(self.engine)


def store_status(settings: Settings) -> StoreStatus:
    """The resolved store and what it holds, changing nothing (``safeguard db info``)."""
    from safeguard.storage.sql.store_access import inspect_store

    return inspect_store(settings.resolved_database_url)
