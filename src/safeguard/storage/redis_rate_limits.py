"""Rate limits shared by every worker and replica of the service, kept in Redis.

One token bucket per API key, as `safeguard.storage.memory_rate_limits.TokenBucketLimiter` keeps in a
process, but held in Redis and updated by one Lua script (atomic, one round trip, Redis's
own clock), so N workers on M machines together allow a key its rate, not N x M times it.
When Redis cannot be reached the limiter falls back to its in-process buckets: requests go
on being limited per process rather than failing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis import Redis

logger = logging.getLogger(__name__)

# KEYS[1]: the bucket; ARGV: capacity (tokens = a minute's allowance), refill per second.
# Returns 0 when a token was taken, else milliseconds until one is free.
_TAKE_TOKEN = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  updated = now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return wait
"""


class Limiter(Protocol):
    """What the service asks of a rate limiter.

    ``shared`` limiters keep their buckets in another server (a network round trip per
    call), so callers on an event loop call them from a thread.
    """

    shared: bool

    def acquire(self, key: str, per_minute: int) -> float:
        """Take a token for `key`; 0 when allowed, else seconds until one is free."""
        ...


class RedisRateLimiter:
    """Token buckets in Redis under ``<prefix>rate:<key id>``; thread-safe.

    Args:
        client: a ``redis.Redis`` client (its connection pool is shared by threads).
        fallback: the in-process limiter used while Redis is unreachable.
        prefix: key prefix, so that several deployments (or tests) can share one Redis.
        retry_seconds: after a failure, how long to use the fallback before trying again.
    """

    shared = True

    def __init__(
        self,
        client: Redis,
        fallback: Limiter,
        prefix: str = "safeguard:",
        retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._fallback = fallback
        self._prefix = prefix
        self._retry = retry_seconds
        self._monotonic = monotonic
        self._down_until = float("-inf")
        self._script = client.register_script(_TAKE_TOKEN)

    @classmethod
    def from_url(cls, url: str, fallback: Limiter, prefix: str = "safeguard:") -> RedisRateLimiter:
        """A limiter on the Redis server at `url` (``redis://host:port/db``)."""
        from redis import Redis

        client = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, fallback, prefix)

    def acquire(self, key: str, per_minute: int) -> float:
        """Take a token for `key` from the shared bucket; see `Limiter.acquire`."""
        if self._monotonic() < self._down_until:
            return self._fallback.acquire(key, per_minute)
        capacity = max(1, per_minute)
        try:
            wait_ms = self._script(
                keys=[f"{self._prefix}rate:{key}"], args=[capacity, capacity / 60.0]
            )
        except Exception as exc:  # Redis down or slow: limit in process meanwhile
            logger.warning(
                "shared rate limits unavailable (%s); limiting per process", type(exc).__name__
            )
            self._down_until = self._monotonic() + self._retry
            return self._fallback.acquire(key, per_minute)
        return float(wait_ms) / 1000.0
