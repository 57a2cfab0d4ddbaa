"""Engines from URLs, with the pragmas and pool settings each dialect needs, and migrations."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, busy_timeout_ms: int = 30000) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the web service, a report) work while a scan writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def make_engine(url: str, *, pooled: bool = True, sqlite_busy_timeout_ms: int = 30000) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL.

    SQLite files get WAL and foreign keys, and are made readable by their owner only (they
    hold upload metadata such as IP addresses); their folder is never created here
    (`store_access.open_store` decides that). PostgreSQL URLs written as ``postgresql://``
    are served by psycopg 3; `pooled` False gives a command that runs once connections that
    close when released.

    Statement parameters are never written to logs or error messages
    (``hide_parameters``): they carry uploaders' IP addresses, user ids, file names and
    hashes.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = Path(parsed.database) if parsed.database not in (None, "", ":memory:") else None
        engine = create_engine(parsed, future=True, hide_parameters=True)

        def on_connect(conn: Any, record: Any) -> None:
            _sqlite_pragmas(conn, record, sqlite_busy_timeout_ms)
            if database is not None:  # SQLite created it on this connect, if it was missing
                _owner_only(database)

        event.listen(engine, "connect", on_connect)
        return engine
    if not pooled:
        # A command that runs once: each connection closes when released, none outlives it.
        return create_engine(
            parsed,
            future=True,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={"connect_timeout": 5},
        )
    return create_engine(
        parsed,
        future=True,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        hide_parameters=True,
        connect_args={"connect_timeout": 5},
    )


def _owner_only(database: Path) -> None:
    # Readable by its owner only: it holds personal data (uploaders' IP addresses).
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        if path.exists() and path.stat().st_mode & 0o077:
            with contextlib.suppress(OSError):
                path.chmod(0o600)


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest revision of every feature branch (`upgrade heads`)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
