"""Prometheus text-format metrics, kept per worker process (scrape each, or sum).

Label values are route templates and list names only: never hashes, keys or addresses.
Every label is bounded: methods outside `KNOWN_METHODS` count as ``OTHER``, requests that
matched no route as ``unmatched``, statuses are three digits.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


def _labels(**values: str) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in values.items()
    )
    return "{" + inner + "}"


class ServiceMetrics:
    """Counters and a latency histogram, rendered in the Prometheus text format."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._latency_counts: dict[tuple[str, str], list[int]] = {}
        self._latency_sum: dict[tuple[str, str], float] = defaultdict(float)
        self._matches: dict[str, int] = defaultdict(int)
        self._items: dict[str, int] = defaultdict(int)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency (in its own bucket; `render` makes them cumulative)."""
        method = method if method in KNOWN_METHODS else "OTHER"
        # The first bucket whose bound is >= seconds; len(LATENCY_BUCKETS) is +Inf only.
        bucket = bisect_left(LATENCY_BUCKETS, seconds)
        key = (method, route)
        with self._lock:
            self._requests[(method, route, str(status))] += 1
            counts = self._latency_counts.get(key)
            if counts is None:
                counts = self._latency_counts[key] = [0] * (len(LATENCY_BUCKETS) + 1)
            counts[bucket] += 1
            self._latency_sum[key] += seconds

    def observe_matches(self, list_names: Iterable[str]) -> None:
        """Count matches per list."""
        names = list(list_names)
        if not names:  # most queries match nothing: no lock to take
            return
        with self._lock:
            for name in names:
                self._matches[name] += 1

    def observe_item(self, verdict: str) -> None:
        """Count one matched item by verdict."""
        with self._lock:
            self._items[verdict] += 1

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """The metrics text, with `gauges` (name -> (help, value)) added."""
        lines: list[str] = []
        with self._lock:
            lines += [
                "# HELP safeguard_http_requests_total HTTP requests by method, route and status.",
                "# TYPE safeguard_http_requests_total counter",
            ]
            for (method, route, status), count in sorted(self._requests.items()):
                labels = _labels(method=method, route=route, status=status)
                lines.append(f"safeguard_http_requests_total{labels} {count}")
            lines += [
                "# HELP safeguard_http_request_duration_seconds Request latency.",
                "# TYPE safeguard_http_request_duration_seconds histogram",
            ]
            name = "safeguard_http_request_duration_seconds"
            for (method, route), counts in sorted(self._latency_counts.items()):
                running = 0
                for index, bound in enumerate(LATENCY_BUCKETS):
                    running += counts[index]
                    labels = _labels(method=method, route=route, le=repr(bound))
                    lines.append(f"{name}_bucket{labels} {running}")
                total = running + counts[-1]
                inf = _labels(method=method, route=route, le="+Inf")
                lines.append(f"{name}_bucket{inf} {total}")
                plain = _labels(method=method, route=route)
                lines.append(f"{name}_sum{plain} {self._latency_sum[(method, route)]:.6f}")
                lines.append(f"{name}_count{plain} {total}")
            lines += [
                "# HELP safeguard_matches_total Matches by list.",
                "# TYPE safeguard_matches_total counter",
            ]
            for list_name, count in sorted(self._matches.items()):
                lines.append(f"safeguard_matches_total{_labels(list=list_name)} {count}")
            lines += [
                "# HELP safeguard_items_total Items matched, by verdict.",
                "# TYPE safeguard_items_total counter",
            ]
            for verdict, count in sorted(self._items.items()):
                lines.append(f"safeguard_items_total{_labels(verdict=verdict)} {count}")
        for gauge, (help_text, value) in sorted(gauges.items()):
            lines += [f"# HELP {gauge} {help_text}", f"# TYPE {gauge} gauge", f"{gauge} {value:g}"]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Times every HTTP request and records it under its route template."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self._metrics.observe_request(
                scope["method"], template, status, time.perf_counter() - started
            )
