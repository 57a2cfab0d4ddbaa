"""Decompression bombs against a real two-worker server: 422 with a reason, fast, bounded.

Each bomb is answered 422 within 2 s on `/v1/match` and `/v1/hash`, and inside a batch;
no worker process is replaced; no worker or decoder ever holds 500 MB; health checks keep
answering within 100 ms meanwhile. A picture within the pixel budget that decodes too
slowly is stopped at the deadline, and one whose client leaves is stopped at once.
"""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.web.hostile.conftest import Served, peak_rss_mb
from tests.web.hostile.probes import HealthProbe, assert_health_kept, baseline

pytestmark = pytest.mark.slow  # real servers: about a minute to start on a busy box


def _slow_png() -> bytes:
    """16 MP of noise-like content: within the pixel budget, seconds of PDQ work."""
    small = np.random.default_rng(7).integers(0, 255, (500, 500, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(small).resize((4000, 4000)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def test_bombs_are_refused_fast_and_bounded(served: Served, bomb_files: dict[str, bytes]) -> None:
    workers = served.workers()
    calm = baseline(served.port)
    with (
        HealthProbe(served.port) as probe,
        httpx.Client(base_url=served.base, headers=served.headers, timeout=30) as client,
    ):
        for name, data in bomb_files.items():
            for route in ("/v1/match", "/v1/hash"):
                started = time.perf_counter()
                answer = client.post(route, content=data)
                elapsed = time.perf_counter() - started
                assert answer.status_code == 422, (name, route, answer.text)
                assert "pixels" in answer.json()["detail"], (name, answer.text)
                assert elapsed < 2.0, (name, route, elapsed)
        files = [
            ("files", (name, data, "application/octet-stream")) for name, data in bomb_files.items()
        ]
        started = time.perf_counter()
        batch = client.post("/v1/match/batch", files=files)
        assert batch.status_code == 200
        assert all(item["error"] for item in batch.json()["items"])
        assert time.perf_counter() - started < 2.0
        time.sleep(0.3)
    assert served.workers() == workers, "a worker was replaced"
    for pid in workers + served.decoders():
        assert peak_rss_mb(pid) < 500, (pid, peak_rss_mb(pid))
    assert_health_kept(probe, calm)


def test_a_slow_decode_is_stopped_at_the_deadline(served: Served) -> None:
    workers = served.workers()
    slow = _slow_png()
    calm = baseline(served.port)
    with HealthProbe(served.port) as probe:
        started = time.perf_counter()
        answer = httpx.post(
            f"{served.base}/v1/match", content=slow, headers=served.headers, timeout=30
        )
        elapsed = time.perf_counter() - started
    assert answer.status_code == 422, answer.text
    assert "longer than 1 s" in answer.json()["detail"]
    assert elapsed < 3.0, elapsed  # the 1 s deadline, plus sending 10 MB on a busy box
    assert served.workers() == workers
    assert_health_kept(probe, calm)


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _cancelled_count(served: Served) -> int:
    # Metrics are per worker: scrape on fresh connections until both were seen.
    counts: dict[str, int] = {}
    for _ in range(8):
        text = httpx.get(
            f"{served.base}/metrics",
            headers={"Authorization": "Bearer metrics-test-token"},
            timeout=5,
        ).text
        pid = [line for line in text.splitlines() if line.startswith("safeguard_worker_pid")]
        total = sum(
            int(float(line.rsplit(" ", 1)[1]))
            for line in text.splitlines()
            if line.startswith("safeguard_http_requests_total")
            and 'route="/v1/match"' in line
            and 'status="499"' in line
        )
        counts[pid[0] if pid else str(len(counts))] = total
    return sum(counts.values())


def _settled_decoders(served: Served) -> list[int]:
    """The decode subprocesses once none has used CPU for 0.5 s (a decoder replaced by an
    earlier test may still be importing its decoders, which would look like decoding)."""
    deadline = time.monotonic() + 30
    while True:
        decoders = served.decoders()
        ticks = {pid: _cpu_ticks(pid) for pid in decoders}
        time.sleep(0.5)
        if served.decoders() == decoders and all(_cpu_ticks(pid) == ticks[pid] for pid in decoders):
            return decoders
        assert time.monotonic() < deadline, "the decoders never settled"


def test_a_decode_stops_when_its_client_leaves(served: Served) -> None:
    slow = _slow_png()
    decoders = _settled_decoders(served)
    ticks = {pid: _cpu_ticks(pid) for pid in decoders}
    head = (
        f"POST /v1/match HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.token}\r\n"
        f"Content-Length: {len(slow)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head + slow)
        deadline = time.monotonic() + 20
        # Wait until a decoder is working on it, then leave.
        while time.monotonic() < deadline and all(
            _cpu_ticks(pid) == ticks[pid] for pid in decoders if Path(f"/proc/{pid}").exists()
        ):
            time.sleep(0.01)
    left = time.monotonic()
    while _cancelled_count(served) == 0 and time.monotonic() - left < 10:
        time.sleep(0.1)
    # Answered 499 (cancelled), not 422 (the 1 s deadline): the decode stopped as the
    # client left.
    assert _cancelled_count(served) >= 1
