"""Real-browser tests: Debian's Chromium driven by Playwright, against the real app over HTTP.

Nothing is downloaded: Playwright is given ``/usr/bin/chromium`` (the Debian package that
`.ci/run` installs). Without it a test is skipped, except under CI, where it fails.

Fixtures (registered for every test through ``pytest_plugins`` in ``tests/conftest.py``):

- ``browser``: one headless Chromium for the test session.
- ``live_app``: the app served by uvicorn on 127.0.0.1 at an ephemeral port, on a fresh
  SQLite store under ``tmp_path``; ``live_app.services`` seeds data, ``live_app.url(path)``
  builds addresses.
- `sign_in(page, live_app, username, password)`: signs in through the form, like a person.

Example::

    def test_page(browser: Browser, live_app: LiveApp) -> None:
        make_user(live_app.services, "kim", Role.EXAMINER)
        page = browser.new_page()
        sign_in(page, live_app, "kim")
        page.goto(live_app.url("/ui/"))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from safeguard.bootstrap import Services, build_services
from safeguard.settings import Settings
from safeguard.web.app import create_app
from tests.conftest import missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TEST_PASSWORD = "correct horse battery staple"


def browser_settings(data_dir: Path, database_url: str = "") -> Settings:
    """Settings for a served test app: private data folder, cheap Argon2, fast index poll."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        password_time_cost=1,
        password_memory_kib=1024,
        api_rate_per_minute=100_000,
        workers=1,
    )


@dataclass
class LiveApp:
    """The app being served: its base URL and the services behind it."""

    base_url: str
    services: Services

    def url(self, path: str) -> str:
        """An absolute address on the served app."""
        return self.base_url + path


@contextmanager
def serve_app(services: Services) -> Iterator[LiveApp]:
    """Serve `create_app(services)` with uvicorn on 127.0.0.1:<ephemeral> in a thread."""
    _ = services.engine  # migrate before the first request
    config = uvicorn.Config(
        create_app(services),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    """The real app over HTTP on a fresh SQLite store."""
    services = build_services(browser_settings(tmp_path / "live-data"))
    with serve_app(services) as app:
        yield app
    services.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium under Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing: install the Debian chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(page: Page, app: LiveApp, username: str, password: str = TEST_PASSWORD) -> None:
    """Sign in through the form, as a person would, and wait for the next page."""
    page.goto(app.url("/ui/login"))
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#sign-in")
