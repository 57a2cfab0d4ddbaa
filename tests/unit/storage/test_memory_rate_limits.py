"""The in-process token buckets: burst, refill, and a bounded number of buckets."""

from __future__ import annotations

import pytest

from safeguard.storage import memory_rate_limits
from safeguard.storage.memory_rate_limits import TokenBucketLimiter


def test_a_bucket_allows_a_minutes_burst_then_refills() -> None:
    clock = [0.0]
    limiter = TokenBucketLimiter(monotonic=lambda: clock[0])
    assert [limiter.acquire("k", 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k", 3) == pytest.approx(20.0)  # one token every 20 s
    clock[0] = 20.0
    assert limiter.acquire("k", 3) == 0.0
    assert limiter.acquire("other", 3) == 0.0


def test_many_addresses_keep_a_bounded_number_of_buckets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory_rate_limits, "MAX_BUCKETS", 100)
    clock = [0.0]
    limiter = TokenBucketLimiter(monotonic=lambda: clock[0])
    for n in range(99):
        limiter.acquire(f"client:203.0.113.{n}", 1)
    clock[0] = 61.0  # those are full again: the same as absent
    limiter.acquire("busy", 1)
    for n in range(500):
        limiter.acquire(f"client:198.51.100.{n}", 1)
        assert len(limiter) <= 100
    # A bucket in use is kept while idle ones go: its client is still limited.
    assert limiter.acquire("client:198.51.100.499", 1) > 0
