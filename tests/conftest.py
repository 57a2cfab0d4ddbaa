"""Shared fixtures. Test media are generated benign stand-ins, never real listed content."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
