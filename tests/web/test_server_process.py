"""`safeguard serve` as a real server process with two workers on a loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.web.conftest import drop_postgres_database, fresh_postgres_database

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "safeguard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The served database: a SQLite file, or a fresh database on the live PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    url = fresh_postgres_database(request.getfixturevalue("postgres_database"))
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def server(tmp_path: Path, database: str) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        "SAFEGUARD_DATA_DIR": str(tmp_path / "data"),
        "SAFEGUARD_INDEX_POLL_MS": "200",
    }
    env.pop("SAFEGUARD_DATABASE_URL", None)
    env.pop("SAFEGUARD_DB", None)
    db = database
    _cli(env, "db", "init", "--db", db)
    token = json.loads(_cli(env, "keys", "create", "--name", "t", "--scopes", "admin", "--db", db))[
        "token"
    ]
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "safeguard",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--db",
            db,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # worker start-up is slow on a busy 2-core box
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "")
            time.sleep(0.2)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def test_served_workers_share_list_changes(server: tuple[str, str]) -> None:
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        photo = encode(synthetic_photo(5, 900, 700))
        unknown = client.post("/v1/match", content=photo).json()
        assert unknown["known"] is False
        assert (
            client.post("/v1/lists", json={"name": "bad", "actions": ["block"]}).status_code == 201
        )
        entry = {"entry_id": "e", "pdq": unknown["hashes"]["pdq"]}
        change = client.post("/v1/lists/bad/entries", json={"entries": [entry]}).json()
        assert change["retroactive"][0]["upload_id"] == unknown["upload_id"]
        # Whichever worker answers, it serves the new entry within its poll interval.
        deadline = time.monotonic() + 15
        streak = 0
        while streak < 8 and time.monotonic() < deadline:
            known = client.post("/v1/match", content=photo).json()["block"]
            streak = streak + 1 if known else 0
        assert streak >= 8
        assert client.get("/healthz").json() == {"status": "ok"}
        assert "safeguard_http_requests_total" in client.get("/metrics").text
        assert client.post("/v1/match", content=b"", headers={}).status_code in (401, 422)
    assert httpx.get(f"{base}/v1/lists", timeout=5).status_code == 401
