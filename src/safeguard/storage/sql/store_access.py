"""Opening a store without surprises: nothing is created, initialised or migrated by accident.

`open_store` checks the URL, whether the database exists and what its schema holds before
anything is written, and turns every way this can fail into one sentence (`StorageError`,
`ConfigurationError`) instead of a driver traceback:

- ``READ``: the store must exist and be at this version's schema; nothing is written.
- ``WRITE``: the store must exist and hold Safeguard's schema (an older one is upgraded);
  only the default store in the data folder is created on first use.
- ``CREATE``: what ``safeguard db init`` does: create the SQLite file (its folder must
  exist) or initialise an empty PostgreSQL database.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from safeguard.domain.errors import ConfigurationError, StorageError
from safeguard.storage.sql.engine import MIGRATIONS_DIR, make_engine, upgrade_schema
from safeguard.storage.store_states import SchemaState, StoreAccess, StoreStatus

_SUPPORTED = ("sqlite", "postgresql")
_SUPPORTED_TEXT = (
    "Safeguard stores data in SQLite (a file path, or sqlite:///PATH) or PostgreSQL "
    "(postgresql://user@host:5432/dbname)"
)


def checked_url(url: str) -> URL:
    """Parse a database URL and refuse anything but SQLite and PostgreSQL.

    Raises:
        ConfigurationError: unparseable or unsupported, in one sentence.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"{url!r} is not a database URL; {_SUPPORTED_TEXT}") from exc
    if parsed.get_backend_name() not in _SUPPORTED:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}; {_SUPPORTED_TEXT}"
        )
    return parsed


def shown_url(url: str) -> str:
    """The URL with any password hidden, for messages and `safeguard db info`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_path(parsed: URL) -> Path | None:
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def _heads() -> tuple[frozenset[str], frozenset[str]]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return frozenset(script.get_heads()), known


def _connect_error(url: str, exc: DBAPIError) -> StorageError:
    reason = str(exc.orig or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    return StorageError(f"cannot open the database {shown_url(url)}: {first}")


def inspect_store(url: str, engine: Engine | None = None) -> StoreStatus:
    """What the store at `url` holds, without creating or changing anything.

    Raises:
        ConfigurationError: an unsupported URL.
        StorageError: the server refused (wrong role, port, password, database name).
    """
    parsed = checked_url(url)
    path = _sqlite_path(parsed)
    heads, known = _heads()
    shown = shown_url(url)
    if path is not None and not path.is_file():
        return StoreStatus(shown, SchemaState.MISSING, frozenset(), heads, path)
    if path is not None:
        tables, revisions = _sqlite_contents(path)
    else:
        tables, revisions = _server_contents(url, engine)
    if not tables:
        state = SchemaState.EMPTY
    elif not revisions:
        state = SchemaState.FOREIGN
    elif revisions - known:
        state = SchemaState.AHEAD
    elif revisions == heads:
        state = SchemaState.CURRENT
    else:
        state = SchemaState.BEHIND
    return StoreStatus(shown, state, revisions, heads, path)


def _sqlite_contents(path: Path) -> tuple[set[str], frozenset[str]]:
    # Opened read-only, without the engine's pragmas: looking must not change the file.
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            revisions: frozenset[str] = frozenset()
            if "alembic_version" in tables:
                rows = db.execute("SELECT version_num FROM alembic_version")
                revisions = frozenset(str(row[0]) for row in rows)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot read {path} as a SQLite database: {exc}") from exc
    return tables, revisions


def _server_contents(url: str, engine: Engine | None) -> tuple[set[str], frozenset[str]]:
    own = engine is None
    engine = engine or _engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revisions: frozenset[str] = frozenset()
            if "alembic_version" in tables:
                rows = connection.execute(text("SELECT version_num FROM alembic_version"))
                revisions = frozenset(str(row[0]) for row in rows)
    except DBAPIError as exc:
        raise _connect_error(url, exc) from exc
    finally:
        if own:
            engine.dispose()
    return tables, revisions


def _engine(url: str, pooled: bool = True, sqlite_busy_timeout_ms: int = 30000) -> Engine:
    try:
        return make_engine(url, pooled=pooled, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise ConfigurationError(f"cannot use {shown_url(url)}: {_SUPPORTED_TEXT}") from exc


def open_store(
    url: str,
    access: StoreAccess,
    *,
    is_default: bool = False,
    pooled: bool = True,
    sqlite_busy_timeout_ms: int = 30000,
) -> Engine:
    """An engine on the store at `url`, after checking `access` allows what it holds.

    Args:
        url: the resolved database URL.
        access: what the caller may do (see the module docstring).
        is_default: True for the default SQLite file in the data folder, which ``WRITE``
            creates (with its folder) on first use.
        pooled: keep server connections open for reuse (services); False for one command.
        sqlite_busy_timeout_ms: how long a SQLite writer waits for the lock.

    Raises:
        ConfigurationError, StorageError: one sentence saying what is wrong and what to run.
    """
    checked_url(url)
    engine = _engine(
        url, pooled, sqlite_busy_timeout_ms
    )  # connects lazily: nothing is touched before the checks below
    try:
        status = inspect_store(url, engine)
        _check(status, access, is_default)
        if status.state is not SchemaState.CURRENT and access is not StoreAccess.READ:
            upgrade_schema(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise _connect_error(url, exc) from exc
    except BaseException:
        engine.dispose()
        raise
    return engine


def _check(status: StoreStatus, access: StoreAccess, is_default: bool) -> None:
    where = status.url
    init_hint = f"create it with `safeguard db init{'' if is_default else ' --db ' + where}`"
    if status.state is SchemaState.MISSING:
        assert status.sqlite_path is not None
        creating = access is StoreAccess.CREATE or (access is StoreAccess.WRITE and is_default)
        if not creating:
            raise StorageError(f"no Safeguard database at {status.sqlite_path}; {init_hint}")
        folder = status.sqlite_path.parent
        if is_default:
            folder.mkdir(parents=True, mode=0o700, exist_ok=True)  # it will hold personal data
        elif not folder.is_dir():
            raise StorageError(
                f"cannot create {status.sqlite_path}: the folder {folder} does not exist"
            )
    elif status.state is SchemaState.EMPTY:
        if access is StoreAccess.READ or (access is StoreAccess.WRITE and not is_default):
            raise StorageError(f"the database {where} holds no Safeguard data yet; {init_hint}")
    elif status.state is SchemaState.FOREIGN:
        raise StorageError(
            f"the database {where} holds tables that are not Safeguard's; point --db at "
            "another database"
        )
    elif status.state is SchemaState.AHEAD:
        raise StorageError(
            f"the database {where} was written by a newer Safeguard; upgrade Safeguard first"
        )
    elif status.state is SchemaState.BEHIND and access is StoreAccess.READ:
        raise StorageError(
            f"the database {where} has an older schema; upgrade it with "
            f"`safeguard db upgrade{'' if is_default else ' --db ' + where}`"
        )
