"""The request histogram: one bucket per observation, rendered cumulative."""

from __future__ import annotations

from safeguard.web.metrics import LATENCY_BUCKETS, ServiceMetrics


def _buckets(text: str) -> dict[str, int]:
    prefix = 'safeguard_http_request_duration_seconds_bucket{method="POST",route="/v1/match",le="'
    return {
        line[len(prefix) :].split('"', 1)[0]: int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix)
    }


def test_buckets_are_cumulative_with_bounds_inclusive() -> None:
    metrics = ServiceMetrics()
    for seconds in (0.0004, 0.001, 0.003, 0.003, 2.0, 99.0):
        metrics.observe_request("POST", "/v1/match", 200, seconds)
    metrics.observe_request("BREW", "/v1/match", 200, 0.001)  # another label: OTHER
    buckets = _buckets(metrics.render({}))
    assert list(buckets) == [repr(b) for b in LATENCY_BUCKETS] + ["+Inf"]
    assert buckets["0.001"] == 2  # 0.001 is within its own bound
    assert buckets["0.0025"] == 2
    assert buckets["0.005"] == 4
    assert buckets["1.0"] == 4
    assert buckets["2.5"] == 5
    assert buckets["10.0"] == 5
    assert buckets["+Inf"] == 6
    text = metrics.render({})
    assert (
        'safeguard_http_request_duration_seconds_count{method="POST",route="/v1/match"} 6' in text
    )
    assert 'method="OTHER"' in text


def test_items_without_matches_count_no_list() -> None:
    metrics = ServiceMetrics()
    metrics.observe_matches([])
    metrics.observe_matches(iter(["a", "a", "b"]))
    text = metrics.render({})
    assert 'safeguard_matches_total{list="a"} 2' in text
    assert 'safeguard_matches_total{list="b"} 1' in text
