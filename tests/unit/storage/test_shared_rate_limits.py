"""Leased blocks of a shared bucket: few calls to the store, and a bounded allowance."""

from __future__ import annotations

import threading
import time

import pytest

from safeguard.storage import shared_rate_limits
from safeguard.storage.memory_rate_limits import TokenBucketLimiter
from safeguard.storage.shared_rate_limits import LEASE_SECONDS, LeasedLimiter, block_size


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeBuckets:
    """`SharedBuckets` in a dict, on a clock of the test's, counting calls."""

    def __init__(self, clock: Clock, delay: float = 0.0) -> None:
        self._clock = clock
        self._delay = delay
        self._lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}  # tokens, updated
        self.calls: list[tuple[str, int, int]] = []  # bucket, want, unspent
        self.failing = False

    def take(self, bucket: str, per_minute: int, want: int, unspent: int) -> tuple[int, float]:
        if self._delay:
            time.sleep(self._delay)  # a round trip, during which others may call
        with self._lock:
            self.calls.append((bucket, want, unspent))
            if self.failing:
                raise ConnectionError("store down")
            capacity = float(max(1, per_minute))
            rate = capacity / 60.0
            now = self._clock()
            tokens, updated = self.buckets.get(bucket, (capacity, now))
            tokens = min(capacity, tokens + (now - updated) * rate + unspent)
            taken = min(want, int(tokens))
            self.buckets[bucket] = (tokens - taken, now)
            if taken >= 1:
                return taken, 0.0
            return 0, (1.0 - tokens) / rate


def _limiter(buckets: FakeBuckets, clock: Clock, **options: float) -> LeasedLimiter:
    return LeasedLimiter(buckets, TokenBucketLimiter(clock), monotonic=clock, **options)


def test_blocks_are_a_small_share_of_the_rate_between_1_and_the_most() -> None:
    assert block_size(6000) == 60
    assert block_size(300) == 3
    assert block_size(199) == block_size(20) == block_size(0) == 1
    assert block_size(10**9) == shared_rate_limits.MAX_BLOCK


def test_n_requests_cost_n_over_block_calls_to_the_store() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    limiter = _limiter(buckets, clock)
    waits = [limiter.acquire("k", 6000) for _ in range(600)]
    assert waits == [0.0] * 600
    assert len(buckets.calls) == 600 // 60
    assert buckets.calls[0] == ("k", 60, 0)


def test_a_leased_token_is_answered_without_a_round_trip() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    limiter = _limiter(buckets, clock)
    assert limiter.acquire_locally("k", 6000) is None  # nothing leased: ask the store
    assert limiter.acquire("k", 6000) == 0.0
    assert [limiter.acquire_locally("k", 6000) for _ in range(59)] == [0.0] * 59
    assert limiter.acquire_locally("k", 6000) is None  # the block is spent
    assert len(buckets.calls) == 1


def test_small_rates_stay_exact_and_refusals_are_remembered() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    limiter = _limiter(buckets, clock)
    assert [limiter.acquire("k", 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k", 3) == pytest.approx(20.0)  # one token every 20 s
    calls = len(buckets.calls)
    clock.now = 5.0
    assert limiter.acquire_locally("k", 3) == pytest.approx(15.0)  # counted down, no call
    assert len(buckets.calls) == calls
    clock.now = 20.0
    assert limiter.acquire("k", 3) == 0.0
    assert limiter.acquire("k", 3) == pytest.approx(20.0)


def test_two_limiters_allow_the_rate_plus_at_most_a_block_each() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    workers = [_limiter(buckets, clock), _limiter(buckets, clock)]
    per_minute, block = 1000, block_size(1000)
    # The bucket is drained as one: no time passes, so exactly its burst is allowed.
    allowed = sum(workers[n % 2].acquire("k", per_minute) == 0.0 for n in range(1500))
    assert allowed == per_minute
    # A minute later it is full, and each worker takes a block, spending one token of it.
    clock.now = 60.0
    for worker in workers:
        assert worker.acquire("k", per_minute) == 0.0
    # In the next second the two allow the bucket's burst, its refill, and the rest of the
    # blocks they held when the second began: within the rate plus a block each.
    clock.now = 61.0
    window = sum(workers[n % 2].acquire("k", per_minute) == 0.0 for n in range(1500))
    refill = per_minute / 60.0
    assert per_minute < window <= per_minute + refill + 2 * block
    assert window == int(per_minute - 2 * block + refill) + 2 * (block - 1)


def test_a_stale_block_is_renewed_and_its_rest_goes_back() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    limiter = _limiter(buckets, clock)
    for _ in range(10):
        limiter.acquire("k", 6000)
    clock.now = LEASE_SECONDS
    assert limiter.acquire_locally("k", 6000) is None  # too old to spend
    assert limiter.acquire("k", 6000) == 0.0
    assert buckets.calls == [("k", 60, 0), ("k", 60, 50)]


def test_a_changed_rate_renews_the_block() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    limiter = _limiter(buckets, clock)
    limiter.acquire("k", 6000)
    limiter.acquire("k", 3000)
    assert buckets.calls == [("k", 60, 0), ("k", 30, 59)]


def test_the_last_tokens_are_shared_out_in_part_blocks() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    one, two = _limiter(buckets, clock), _limiter(buckets, clock)
    for _ in range(6000):
        one.acquire("k", 6030)  # 100 blocks of 60, all spent: 30 tokens are left
    assert [two.acquire("k", 6030) for _ in range(30)] == [0.0] * 30
    assert buckets.calls[-1] == ("k", 60, 0)
    assert buckets.buckets["k"][0] == 0.0  # two took the 30 that were left
    assert two.acquire("k", 6030) > 0


def test_store_errors_fall_back_to_limits_per_process() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock)
    buckets.failing = True
    limiter = _limiter(buckets, clock, retry_seconds=5.0)
    assert [limiter.acquire("k", 2) > 0 for _ in range(3)] == [False, False, True]
    assert limiter.acquire_locally("k", 2) is not None  # the fallback answers in process
    assert len(buckets.calls) == 1  # not asked again for 5 s
    clock.now = 60.0
    buckets.failing = False
    assert limiter.acquire("k", 2) == 0.0
    assert len(buckets.calls) == 2


def test_concurrent_requests_renew_once_and_hold_one_block() -> None:
    clock = Clock()
    buckets = FakeBuckets(clock, delay=0.002)
    limiter = _limiter(buckets, clock)
    granted: list[float] = []

    def take() -> None:
        for _ in range(100):
            granted.append(limiter.acquire("k", 6000))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted == [0.0] * 800
    assert len(buckets.calls) == 800 // 60 + 1  # one renewal per block, never two at once
    assert buckets.buckets["k"][0] == 6000 - 60 * len(buckets.calls)


def test_many_addresses_keep_a_bounded_number_of_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_rate_limits, "MAX_LEASES", 100)
    clock = Clock()
    limiter = _limiter(FakeBuckets(clock), clock)
    for n in range(99):
        limiter.acquire(f"client:203.0.113.{n}", 300)
    clock.now = 61.0  # their blocks are stale and no refusal is remembered
    limiter.acquire("busy", 300)
    limiter.acquire("busy-too", 300)
    assert len(limiter) == 2
    for n in range(200):  # all live at once: a flood; the leases start over
        limiter.acquire(f"client:198.51.100.{n}", 300)
    assert len(limiter) <= 100
