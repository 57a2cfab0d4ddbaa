"""Shared fixtures. Test media are generated benign stand-ins, never real listed content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from safeguard.settings import Settings

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
