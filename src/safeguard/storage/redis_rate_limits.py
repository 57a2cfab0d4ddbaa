"""Rate limits shared by every worker and replica of the service, kept in Redis.

One token bucket per key, as `safeguard.storage.memory_rate_limits.TokenBucketLimiter` keeps
in a process, but held in Redis and updated by one Lua script (atomic, one round trip,
Redis's own clock), so N workers on M machines together allow a key its rate, not N x M
times it. Each worker leases blocks of tokens and spends them locally
(`safeguard.storage.shared_rate_limits.LeasedLimiter`, which states the bound: the rate
plus at most one block per worker), so Redis sees about one call per block. When Redis
cannot be reached the limiter falls back to its in-process buckets: requests go on being
limited per process rather than failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from safeguard.storage.shared_rate_limits import (
    BLOCK_SHARE,
    LEASE_SECONDS,
    MAX_BLOCK,
    LeasedLimiter,
    Limiter,
)

if TYPE_CHECKING:
    from redis import Redis

# KEYS[1]: the bucket; ARGV: capacity (tokens = a minute's allowance), refill per second,
# tokens wanted, unspent tokens put back first. Returns {tokens taken, 0} when at least one
# was free, else {0, milliseconds until one is}.
_TAKE_TOKENS = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local unspent = tonumber(ARGV[4])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  updated = now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate + unspent)
local taken = math.min(want, math.floor(tokens))
local wait = 0
if taken >= 1 then
  tokens = tokens - taken
else
  taken = 0
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {taken, wait}
"""


class RedisBuckets:
    """`SharedBuckets` in Redis under ``<prefix>rate:<key>``; thread-safe.

    Args:
        client: a ``redis.Redis`` client (its connection pool is shared by threads).
        prefix: key prefix, so that several deployments (or tests) can share one Redis.
    """

    def __init__(self, client: Redis, prefix: str = "safeguard:") -> None:
        self._prefix = prefix
        self._script = client.register_script(_TAKE_TOKENS)

    def take(self, bucket: str, per_minute: int, want: int, unspent: int) -> tuple[int, float]:
        """See `safeguard.storage.shared_rate_limits.SharedBuckets.take`."""
        capacity = max(1, per_minute)
        taken, wait_ms = self._script(
            keys=[f"{self._prefix}rate:{bucket}"],
            args=[capacity, capacity / 60.0, max(1, want), max(0, unspent)],
        )
        return int(taken), float(wait_ms) / 1000.0


class RedisRateLimiter(LeasedLimiter):
    """Token buckets in Redis (`RedisBuckets`), spent in leased blocks; thread-safe.

    Args:
        client: a ``redis.Redis`` client (its connection pool is shared by threads).
        fallback: the in-process limiter used while Redis is unreachable.
        prefix: key prefix, so that several deployments (or tests) can share one Redis.
        retry_seconds: after a failure, how long to use the fallback before trying again.
        block_share, max_block, lease_seconds: see `LeasedLimiter`.
    """

    def __init__(
        self,
        client: Redis,
        fallback: Limiter,
        prefix: str = "safeguard:",
        retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        block_share: float = BLOCK_SHARE,
        max_block: int = MAX_BLOCK,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        super().__init__(
            RedisBuckets(client, prefix),
            fallback,
            retry_seconds,
            monotonic,
            block_share=block_share,
            max_block=max_block,
            lease_seconds=lease_seconds,
        )

    @classmethod
    def from_url(cls, url: str, fallback: Limiter, prefix: str = "safeguard:") -> RedisRateLimiter:
        """A limiter on the Redis server at `url` (``redis://host:port/db``)."""
        from redis import Redis

        client = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, fallback, prefix)
