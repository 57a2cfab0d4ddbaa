"""A real `safeguard serve` (two workers, SQLite, loopback) for the hostile-input suite.

The server's stderr (every log line of supervisor, workers and decoders) goes to a file the
tests read; its processes are found through /proc, so tests can check their memory peaks
and that none was replaced.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.web.hostile import bombs


@dataclass
class Served:
    """One running server."""

    base: str
    port: int
    token: str
    process: subprocess.Popen[bytes]
    log: Path
    data_dir: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def workers(self) -> list[int]:
        """Worker processes (the supervisor's children, less the resource tracker)."""
        return [pid for pid in children(self.process.pid) if "resource_tracker" not in cmdline(pid)]

    def decoders(self) -> list[int]:
        """Decode subprocesses of every worker."""
        return [
            pid
            for worker in self.workers()
            for pid in children(worker)
            if "resource_tracker" not in cmdline(pid)
        ]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(folder: Path, **settings: str) -> Served:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("SAFEGUARD_DATABASE_URL", "SAFEGUARD_DB")
        },
        "SAFEGUARD_DATA_DIR": str(folder / "data"),
        "SAFEGUARD_INDEX_POLL_MS": "200",
        "SAFEGUARD_DECODE_WORKERS": "1",
        **{f"SAFEGUARD_{name.upper()}": value for name, value in settings.items()},
    }
    if "database_url" in settings:  # a database named explicitly is initialised first
        subprocess.run(
            [sys.executable, "-m", "safeguard", "db", "init"],
            env=env,
            capture_output=True,
            timeout=120,
            check=True,
        )
    created = subprocess.run(
        [sys.executable, "-m", "safeguard", "keys", "create", "--name", "h", "--scopes", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    token = json.loads(created.stdout)["token"]
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as sink:
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
                "--log-level",
                "info",
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", port, token, process, log, folder / "data")
    deadline = time.monotonic() + 240  # start-up is slow on a busy 2-core box
    while time.monotonic() < deadline:
        ready = 0
        try:
            # Both workers ready, and each with its decoder started.
            for _ in range(6):
                if httpx.get(f"{served.base}/readyz", timeout=2).status_code == 200:
                    ready += 1
        except httpx.TransportError:
            pass
        if ready == 6 and len(served.workers()) == 2 and len(served.decoders()) >= 2:
            return served
        if process.poll() is not None:
            raise AssertionError(served.log_text())
        time.sleep(0.3)
    stop_server(served)
    raise AssertionError("server did not start: " + served.log_text())


def stop_server(served: Served) -> None:
    served.process.terminate()
    try:
        served.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the package: 1 s decode deadline, 2 s slow-header deadline."""
    running = start_server(
        tmp_path_factory.mktemp("hostile"),
        decode_timeout_seconds="1",
        header_timeout_seconds="2",
        metrics_token="metrics-test-token",
    )
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="package")
def bomb_files() -> dict[str, bytes]:
    return bombs.all_bombs()
