"""Rate limits shared by every worker and replica of the service, kept in PostgreSQL.

For deployments with PostgreSQL and no Redis: one token bucket per key (an API key, or a
client address for requests without a valid key) in the ``service_rate_buckets`` table,
taken by one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement. The statement is
atomic under PostgreSQL's row lock and reads the server's clock, so N workers on M
machines together allow a key its rate, not N x M times it, whatever their own clocks say.

Each worker leases blocks of tokens and spends them locally
(`safeguard.storage.shared_rate_limits.LeasedLimiter`, which states the bound: the rate
plus at most one block per worker), so the table sees about one write per block, not one
per request. Each write is one short transaction on the store's connection pool, made from
a thread. When the database errors the limiter falls back to its in-process buckets for a
few seconds, as `safeguard.storage.redis_rate_limits.RedisRateLimiter` does: requests go on
being limited per process rather than failing.

Buckets idle for longer than `IDLE_SECONDS` are full again, so they are deleted now and
then (the table holds the keys and addresses seen in the last few minutes, no more).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Boolean, Column, Engine, Float, Integer, String, Table, text

from safeguard.storage.shared_rate_limits import (
    BLOCK_SHARE,
    LEASE_SECONDS,
    MAX_BLOCK,
    LeasedLimiter,
    Limiter,
)
from safeguard.storage.sql.schema import metadata

IDLE_SECONDS = 120.0
"""A bucket untouched this long has refilled (a bucket holds one minute's allowance)."""

service_rate_buckets = Table(
    "service_rate_buckets",
    metadata,
    Column("bucket", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated", Float, nullable=False),  # the server's clock, epoch seconds
    # Whether the last call took a token: kept for replicas of the release before `taken`
    # (service_0003), which read it while a rolling upgrade runs.
    Column("granted", Boolean, nullable=False),
    Column("taken", Integer, nullable=False, server_default=text("0")),  # by the last call
)

# :unspent tokens go back, then up to :want whole ones are taken from at most :capacity,
# refilled at :rate a second; a new bucket starts full. ``taken`` records how many this call
# got, since RETURNING sees only the new row.
_TAKE_TOKENS = text(
    """
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
    INSERT INTO service_rate_buckets AS b (bucket, tokens, updated, granted, taken)
    SELECT :bucket, :capacity - least(:want, floor(:capacity)), clock.now, true,
        least(:want, floor(:capacity))::integer
    FROM clock
    ON CONFLICT (bucket) DO UPDATE SET (tokens, updated, taken, granted) = (
        SELECT free.tokens - least(:want, floor(free.tokens)),
            greatest(b.updated, excluded.updated),
            least(:want, floor(free.tokens))::integer,
            free.tokens >= 1
        FROM (
            SELECT least(
                :capacity,
                b.tokens + greatest(0, excluded.updated - b.updated) * :rate + :unspent
            ) AS tokens
        ) AS free
    )
    RETURNING tokens, taken
    """
)

_FORGET_IDLE = text(
    "DELETE FROM service_rate_buckets "
    "WHERE updated < extract(epoch FROM clock_timestamp())::float8 - :idle"
)


class SqlBuckets:
    """`SharedBuckets` in ``service_rate_buckets``; thread-safe.

    Args:
        engine: the store's PostgreSQL engine, its schema at ``service_0004`` or later.
    """

    def __init__(self, engine: Engine, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._next_sweep = monotonic() + IDLE_SECONDS

    def take(self, bucket: str, per_minute: int, want: int, unspent: int) -> tuple[int, float]:
        """See `safeguard.storage.shared_rate_limits.SharedBuckets.take`."""
        capacity = float(max(1, per_minute))
        rate = capacity / 60.0
        arguments = {
            "bucket": bucket[:200],
            "capacity": capacity,
            "rate": rate,
            "want": max(1, want),
            "unspent": max(0, unspent),
        }
        with self._engine.begin() as conn:
            tokens, taken = conn.execute(_TAKE_TOKENS, arguments).one()
        if self._sweep_due():  # its own transaction: the bucket's row lock is gone
            with self._engine.begin() as conn:
                conn.execute(_FORGET_IDLE, {"idle": IDLE_SECONDS})
        if taken > 0:
            return int(taken), 0.0
        return 0, (1.0 - float(tokens)) / rate

    def _sweep_due(self) -> bool:
        # One caller per process and interval deletes idle buckets; the others go on.
        now = self._monotonic()
        with self._lock:
            if now < self._next_sweep:
                return False
            self._next_sweep = now + IDLE_SECONDS
            return True


class SqlRateLimiter(LeasedLimiter):
    """Token buckets in ``service_rate_buckets`` (`SqlBuckets`), spent in leased blocks.

    Thread-safe.

    Args:
        engine: the store's PostgreSQL engine, its schema at ``service_0004`` or later.
        fallback: the in-process limiter used while the database errors.
        retry_seconds: after a failure, how long to use the fallback before trying again.
        block_share, max_block, lease_seconds: see `LeasedLimiter`.
    """

    def __init__(
        self,
        engine: Engine,
        fallback: Limiter,
        retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        block_share: float = BLOCK_SHARE,
        max_block: int = MAX_BLOCK,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        super().__init__(
            SqlBuckets(engine, monotonic),
            fallback,
            retry_seconds,
            monotonic,
            block_share=block_share,
            max_block=max_block,
            lease_seconds=lease_seconds,
        )
