"""What the Redis and PostgreSQL rate-limit tests share: counted calls, and threads taking."""

from __future__ import annotations

import threading
import time

from safeguard.storage.memory_rate_limits import TokenBucketLimiter
from safeguard.storage.shared_rate_limits import LeasedLimiter, SharedBuckets


class CountingBuckets:
    """Shared buckets that count the calls made to them (each a round trip)."""

    def __init__(self, buckets: SharedBuckets) -> None:
        self._buckets = buckets
        self._lock = threading.Lock()
        self.calls = 0

    def take(self, bucket: str, per_minute: int, want: int, unspent: int) -> tuple[int, float]:
        with self._lock:
            self.calls += 1
        return self._buckets.take(bucket, per_minute, want, unspent)


def leased(buckets: CountingBuckets) -> LeasedLimiter:
    """A worker's limiter on `buckets`, with the default blocks."""
    return LeasedLimiter(buckets, TokenBucketLimiter())


def take_from_threads(
    limiters: list[LeasedLimiter], key: str, per_minute: int, requests: int, threads: int = 8
) -> tuple[int, float]:
    """`requests` acquires, from `threads` threads spread over `limiters` (workers).

    Returns:
        (how many were allowed, seconds the threads ran).
    """
    allowed = [0] * threads

    def take(n: int) -> None:
        limiter = limiters[n % len(limiters)]
        for _ in range(requests // threads):
            allowed[n] += limiter.acquire(key, per_minute) == 0.0

    workers = [threading.Thread(target=take, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(allowed), time.monotonic() - started
