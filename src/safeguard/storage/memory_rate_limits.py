"""Per-key token buckets, in process: each worker process enforces the limit on its own.

`safeguard.storage.redis_rate_limits.RedisRateLimiter` shares them between processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """A bucket per key holding up to a minute's allowance, refilled continuously.

    A key allowed ``r`` requests a minute may burst ``r`` requests, then makes one every
    ``60 / r`` seconds.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, key: str, per_minute: int) -> float:
        """Take a token for `key`; returns 0 when allowed, else seconds until one is free."""
        now = self._monotonic()
        capacity = float(max(1, per_minute))
        rate = capacity / 60.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate
