"""Composition root: builds the services from settings, naming the concrete adapters.

Interfaces call `build_services(settings)` and use what it returns; nothing else in the
package chooses an adapter. Each feature adds a cached property for its service here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from safeguard.settings import Settings
from safeguard.storage.sql.engine import make_engine, upgrade_schema


@dataclass
class Services:
    """Lazily built services for one settings object; cheap to create, build on first use."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The database engine, migrated to the newest schema on first use."""
        engine = make_engine(self.settings.resolved_database_url)
        upgrade_schema(engine)
        return engine


def build_services(settings: Settings) -> Services:
    """Wire the services for `settings`; nothing touches disk or network until used."""
    return Services(settings)
