"""Two `safeguard serve` replicas (separate processes, as on two machines) on one PostgreSQL store.

They share no files: each has its own data folder. A list change made through one is served
by the other within a second although neither polls more than once a minute (PostgreSQL
NOTIFY), and a key's rate limit holds across both (Redis).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import require_redis
from tests.web.conftest import drop_postgres_database, fresh_postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REDIS_URL = os.environ.get("SAFEGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PDQ = "c3" * 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_or_skip() -> None:
    require_redis(REDIS_URL)


def _start(env: dict[str, str], db: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "safeguard", "serve", "--port", str(port), "--workers", "1"],
        env={**env, "SAFEGUARD_DB": db},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 180  # start-up is slow on a busy 2-core box
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "")
        time.sleep(0.2)
    raise AssertionError("replica did not become ready")


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, postgres_database: str
) -> Iterator[tuple[list[str], str, str]]:
    """Two replicas; their base URLs, an admin token and a match token limited to 20/min."""
    _redis_or_skip()
    tmp_path = tmp_path_factory.mktemp("replicas")
    db = fresh_postgres_database(postgres_database)
    base_env = {
        **os.environ,
        # Once a minute: anything faster than that below is the change notice's doing.
        "SAFEGUARD_INDEX_POLL_MS": "60000",
        "SAFEGUARD_REDIS_URL": REDIS_URL,
    }
    for name in ("SAFEGUARD_DATABASE_URL", "SAFEGUARD_DB"):
        base_env.pop(name, None)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        cli_env = {**base_env, "SAFEGUARD_DATA_DIR": str(tmp_path / "cli"), "SAFEGUARD_DB": db}

        def key(*args: str) -> str:
            out = subprocess.run(
                [sys.executable, "-m", "safeguard", "keys", "create", *args],
                env=cli_env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            ).stdout
            return str(json.loads(out)["token"])

        # A database named explicitly is never created by accident: initialise it first.
        subprocess.run(
            [sys.executable, "-m", "safeguard", "db", "init"],
            env=cli_env,
            capture_output=True,
            timeout=120,
            check=True,
        )
        admin = key("--name", "admin", "--scopes", "admin")
        limited = key("--name", "limited", "--scopes", "match", "--rate", "20")
        bases = []
        for name in ("a", "b"):
            env = {**base_env, "SAFEGUARD_DATA_DIR": str(tmp_path / name)}
            process, base = _start(env, db)
            processes.append(process)
            bases.append(base)
        for process, base in zip(processes, bases, strict=True):
            _wait_ready(process, base)
        yield bases, admin, limited
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()
        drop_postgres_database(db)


def _known_on(client: httpx.Client, base: str) -> bool:
    answer = client.post(f"{base}/v1/match", json={"pdq": PDQ})
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["known"])


def test_a_list_change_reaches_the_other_replica_within_a_second(
    replicas: tuple[list[str], str, str],
) -> None:
    (first, second), admin, _ = replicas
    with httpx.Client(headers={"Authorization": f"Bearer {admin}"}, timeout=30) as client:
        assert not _known_on(client, second)
        made = client.post(f"{first}/v1/lists", json={"name": "bad", "actions": ["block"]})
        assert made.status_code == 201, made.text
        added = client.post(
            f"{first}/v1/lists/bad/entries", json={"entries": [{"entry_id": "e", "pdq": PDQ}]}
        )
        assert added.status_code in (200, 201), added.text
        committed = time.monotonic()
        while not _known_on(client, second):
            assert time.monotonic() - committed < 1.0, "the other replica did not see the change"
            time.sleep(0.02)
        assert _known_on(client, first)
        # Disabling the list reaches it the same way.
        changed = client.patch(f"{first}/v1/lists/bad", json={"enabled": False})
        assert changed.status_code == 200, changed.text
        committed = time.monotonic()
        while _known_on(client, second):
            assert time.monotonic() - committed < 1.0, "the other replica still matches"
            time.sleep(0.02)


def test_a_keys_rate_limit_holds_across_replicas(replicas: tuple[list[str], str, str]) -> None:
    bases, _, limited = replicas
    statuses: list[int] = []
    with httpx.Client(headers={"Authorization": f"Bearer {limited}"}, timeout=30) as client:
        for n in range(30):
            base = bases[n % 2]
            statuses.append(client.post(f"{base}/v1/match", json={"pdq": PDQ}).status_code)
    allowed = statuses.count(200)
    # 20 a minute together, not 20 on each (30 would all pass then); a slow run may earn
    # a token or two of refill.
    assert 20 <= allowed <= 22, statuses
    assert statuses.count(429) == 30 - allowed
    assert 429 in statuses[1::2], "the second replica did not share the bucket"
