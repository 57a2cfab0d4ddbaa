"""Shared fixtures. Test media are generated benign stand-ins, never real listed content."""

from __future__ import annotations

import importlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from safeguard.settings import Settings
from safeguard.storage.sql.engine import make_engine

# Real-browser fixtures (`browser`, `live_app`): Debian's Chromium under Playwright.
pytest_plugins = ["tests.browser_support"]

POSTGRES_URL = os.environ.get(
    "SAFEGUARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private data folder and SQLite database under tmp_path."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point SAFEGUARD_DATA_DIR at tmp_path so CLI runs never touch the user's data."""
    data = tmp_path / "data"
    monkeypatch.setenv("SAFEGUARD_DATA_DIR", str(data))
    monkeypatch.delenv("SAFEGUARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("SAFEGUARD_DB", raising=False)
    return data


def missing(message: str) -> NoReturn:
    """A tool, module or server the test needs is absent: skip, except under CI, where fail.

    CI installs and starts everything the suite uses (`.ci/run`), so there an absence is
    a broken job, never a reason to test less.
    """
    if os.environ.get("CI"):
        pytest.fail(message)
    # Allowed at module level too, where a test file needs an extra for all its tests.
    pytest.skip(message, allow_module_level=True)


def require_tool(*names: str) -> str:
    """The first of `names` on the PATH (or an absolute path that exists), else `missing`."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    missing(f"{names[0]} is not installed (Debian package: see .ci/run)")


def require_module(name: str, reason: str) -> ModuleType:
    """The module `name` imported, else `missing` (an optional extra not installed)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(reason)


def require_redis(url: str) -> None:
    """Return when a Redis server answers at `url`, else `missing`."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except RedisConnectionError:
        missing("no Redis server at " + url)
    finally:
        client.close()


@contextmanager
def private_postgres_database(prefix: str, base_url: str = POSTGRES_URL) -> Iterator[str]:
    """Create a uniquely named database on the test server, yield its URL, drop it afterwards.

    Parallel runs and tests never see each other's rows. When the server cannot be reached
    the test is skipped, except under CI, where the server is part of the job and its absence
    is a failure.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(
        make_url(base_url).set(database="postgres").render_as_string(hide_password=False)
    )
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        admin.dispose()
        missing(f"PostgreSQL not reachable: {type(exc).__name__}")
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
