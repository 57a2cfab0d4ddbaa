"""An in-process client for the app (httpx over ASGI, driven through an anyio portal)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from sqlalchemy import text
from sqlalchemy.engine import make_url

from safeguard.bootstrap import Services, build_services
from safeguard.domain.service import Scope
from safeguard.settings import Settings
from safeguard.storage.sql.engine import make_engine
from safeguard.web.app import create_app
from tests.conftest import private_postgres_database

MAX_UPLOAD = 3 * 1024 * 1024


class ApiClient:
    """A synchronous face on `httpx.AsyncClient` with per-scope tokens."""

    def __init__(self, services: Services, portal: BlockingPortal) -> None:
        self.services = services
        self.app = create_app(services, background=False)
        self._portal = portal
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://service.test"
        )
        self.tokens = {
            scope: services.api_keys.create(f"test-{scope.value}", [scope]).token for scope in Scope
        }

    def request(
        self, method: str, url: str, scope: Scope | None = Scope.ADMIN, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if scope is not None:
            headers["Authorization"] = f"Bearer {self.tokens[scope]}"
        return self._portal.call(
            lambda: self._client.request(method, url, headers=headers, **kwargs)
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as running:
        yield running


def service_settings(tmp_path: Path, database_url: str = "") -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        max_upload_bytes=MAX_UPLOAD,
        max_image_pixels=4_000_000,
        api_rate_per_minute=100_000,
        # Cheap Argon2 for tests (production default: 3 passes over 64 MiB).
        password_time_cost=1,
        password_memory_kib=1024,
    )


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A fresh database on the test server for this module, dropped afterwards."""
    with private_postgres_database("safeguard_web") as url:
        yield url


@pytest.fixture
def api(tmp_path: Path, portal: BlockingPortal) -> Iterator[ApiClient]:
    """The app on a fresh SQLite database, with one key per scope."""
    services = build_services(service_settings(tmp_path))
    client = ApiClient(services, portal)
    yield client
    client.close()
    services.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_api(
    request: pytest.FixtureRequest, tmp_path: Path, portal: BlockingPortal
) -> Iterator[ApiClient]:
    """The app on SQLite and on the live PostgreSQL server (a fresh database per run)."""
    url = ""
    if request.param == "postgres":
        base = request.getfixturevalue("postgres_database")
        # Each test gets its own database, so lists and keys never leak between tests.
        url = fresh_postgres_database(base)
    services = build_services(service_settings(tmp_path, url))
    client = ApiClient(services, portal)
    yield client
    client.close()
    services.engine.dispose()
    if url:
        drop_postgres_database(url)


def fresh_postgres_database(base: str) -> str:
    name = f"{make_url(base).database}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(
        make_url(base).set(database="postgres").render_as_string(hide_password=False)
    )
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False)
    )
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
