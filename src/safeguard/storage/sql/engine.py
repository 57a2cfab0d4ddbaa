"""Engines from URLs, with the pragmas and pool settings each dialect needs, and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the web service, a report) work while a scan writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL.

    SQLite files get WAL and foreign keys. PostgreSQL URLs written as
    ``postgresql://`` are served by psycopg 3.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        # The file's folder is never created here: `store_access.open_store` decides that.
        engine = create_engine(parsed, future=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not pooled:
        # A command that runs once: each connection closes when released, none outlives it.
        return create_engine(parsed, future=True, poolclass=NullPool)
    return create_engine(parsed, future=True, pool_pre_ping=True, pool_size=10, max_overflow=10)


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest revision of every feature branch (`upgrade heads`)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
