"""What a command may do to its store, and what a store holds (no database driver needed).

Kept apart from `safeguard.storage.sql.store_access` so that interfaces can name these
without loading SQLAlchemy (`safeguard --help` and `safeguard hash` never do).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class StoreAccess(StrEnum):
    """What a command may do to its store."""

    READ = "read"
    WRITE = "write"
    CREATE = "create"


class SchemaState(StrEnum):
    """What a database holds, compared with this version of Safeguard."""

    MISSING = "missing"  # no SQLite file
    EMPTY = "empty"  # exists, no tables
    FOREIGN = "foreign"  # tables, but not Safeguard's
    BEHIND = "behind"  # Safeguard's, older: `safeguard db upgrade`
    CURRENT = "current"
    AHEAD = "ahead"  # written by a newer Safeguard


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """A store's resolved URL (password hidden), its state and schema revisions."""

    url: str
    state: SchemaState
    revisions: frozenset[str]
    heads: frozenset[str]
    sqlite_path: Path | None
