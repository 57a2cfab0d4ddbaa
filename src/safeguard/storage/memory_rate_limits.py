"""Per-key token buckets, in process: each worker process enforces the limit on its own.

`safeguard.storage.redis_rate_limits.RedisRateLimiter` and
`safeguard.storage.sql.rate_limits.SqlRateLimiter` share them between processes, and fall
back to these while their store is unreachable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_BUCKETS = 100_000
"""Buckets kept before idle ones are dropped (a few MB)."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """A bucket per key holding up to a minute's allowance, refilled continuously.

    A key allowed ``r`` requests a minute may burst ``r`` requests, then makes one every
    ``60 / r`` seconds. Keys include client addresses, which an attacker chooses by the
    million, so past `MAX_BUCKETS` buckets the ones idle for a minute (full again, the same
    as absent) are dropped.
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
                if len(self._buckets) >= MAX_BUCKETS:
                    self._forget_idle(now)
                bucket = self._buckets[key] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate

    def acquire_locally(self, key: str, per_minute: int) -> float:
        """`acquire`: always answered in process, without blocking."""
        return self.acquire(key, per_minute)

    def _forget_idle(self, now: float) -> None:
        idle = [key for key, bucket in self._buckets.items() if now - bucket.updated >= 60.0]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:  # all busy: an attack; forget the oldest half
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key].updated)
            for key in by_age[: len(by_age) // 2]:
                del self._buckets[key]

    def __len__(self) -> int:
        """Buckets held now."""
        return len(self._buckets)
