"""A health probe running beside an attack: how long ``/healthz`` takes, every 50 ms.

It speaks HTTP over a raw socket, a fresh connection each time (so both workers are
probed), so that the probe's own cost is a few system calls, not an HTTP client's set-up.
"""

from __future__ import annotations

import socket
import threading
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"


def probe_once(port: int, timeout: float = 5.0) -> tuple[float, bool]:
    """Seconds one ``/healthz`` took, and whether it answered 200."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(REQUEST)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError:
        return time.perf_counter() - started, False
    return time.perf_counter() - started, answer.startswith(b"HTTP/1.1 200")


class HealthProbe:
    """Polls ``/healthz`` from a thread while the `with` block runs."""

    def __init__(self, port: int, interval: float = 0.05) -> None:
        self._port = port
        self._interval = interval
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            seconds, ok = probe_once(self._port)
            self.latencies.append(seconds)
            self.failures += 0 if ok else 1
            self._stop.wait(self._interval)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)


def baseline(port: int, seconds: float = 2.0) -> HealthProbe:
    """The same probe with nothing else sent: what this machine gives when calm."""
    with HealthProbe(port) as probe:
        time.sleep(seconds)
    return probe


def assert_health_kept(during: HealthProbe, calm: HealthProbe, limit: float = 0.1) -> None:
    """Health answered throughout, 90 % within `limit`, and none slower than `limit` plus the
    worst the calm baseline saw (a shared CI box adds its own delays, attack or not)."""
    assert during.failures == 0
    assert during.latencies
    ordered = sorted(during.latencies)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    assert p90 < limit, ordered
    assert during.worst < limit + calm.worst, (during.worst, calm.worst)
