"""Rate limits shared by every worker and replica of the service, kept in PostgreSQL.

For deployments with PostgreSQL and no Redis: one token bucket per key (an API key, or a
client address for requests without a valid key) in the ``service_rate_buckets`` table,
taken by one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement. The statement is
atomic under PostgreSQL's row lock and reads the server's clock, so N workers on M
machines together allow a key its rate, not N x M times it, whatever their own clocks say.

It uses the store's connection pool, one short transaction per call; callers on an event
loop call it from a thread (it is ``shared``). When the database errors it falls back to
its in-process buckets for a few seconds, as
`safeguard.storage.redis_rate_limits.RedisRateLimiter` does: requests go on being limited
per process rather than failing.

Buckets idle for longer than `IDLE_SECONDS` are full again, so they are deleted now and
then (the table holds the keys and addresses seen in the last few minutes, no more).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Boolean, Column, Engine, Float, String, Table, text

from safeguard.storage.redis_rate_limits import Limiter
from safeguard.storage.sql.schema import metadata

logger = logging.getLogger(__name__)

IDLE_SECONDS = 120.0
"""A bucket untouched this long has refilled (a bucket holds one minute's allowance)."""

service_rate_buckets = Table(
    "service_rate_buckets",
    metadata,
    Column("bucket", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated", Float, nullable=False),  # the server's clock, epoch seconds
    Column("granted", Boolean, nullable=False),  # whether the last call took a token
)

# :capacity tokens at most, refilled at :rate a second; a new bucket starts full less the
# token this call takes. ``granted`` records whether this call got its token, since
# RETURNING sees only the new row.
_TAKE_TOKEN = text(
    """
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
    INSERT INTO service_rate_buckets AS b (bucket, tokens, updated, granted)
    SELECT :bucket, :capacity - 1, clock.now, true FROM clock
    ON CONFLICT (bucket) DO UPDATE SET
        tokens = least(:capacity, b.tokens + greatest(0, excluded.updated - b.updated) * :rate)
            - CASE WHEN least(:capacity, b.tokens
                    + greatest(0, excluded.updated - b.updated) * :rate) >= 1
                THEN 1 ELSE 0 END,
        updated = greatest(b.updated, excluded.updated),
        granted = least(:capacity, b.tokens
            + greatest(0, excluded.updated - b.updated) * :rate) >= 1
    RETURNING tokens, granted
    """
)

_FORGET_IDLE = text(
    "DELETE FROM service_rate_buckets "
    "WHERE updated < extract(epoch FROM clock_timestamp())::float8 - :idle"
)


class SqlRateLimiter:
    """Token buckets in ``service_rate_buckets``; thread-safe.

    Args:
        engine: the store's PostgreSQL engine, its schema at ``service_0003`` or later.
        fallback: the in-process limiter used while the database errors.
        retry_seconds: after a failure, how long to use the fallback before trying again.
    """

    shared = True

    def __init__(
        self,
        engine: Engine,
        fallback: Limiter,
        retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._fallback = fallback
        self._retry = retry_seconds
        self._monotonic = monotonic
        self._down_until = float("-inf")
        self._lock = threading.Lock()
        self._next_sweep = monotonic() + IDLE_SECONDS

    def acquire(self, key: str, per_minute: int) -> float:
        """Take a token for `key` from the shared bucket; see `Limiter.acquire`."""
        if self._monotonic() < self._down_until:
            return self._fallback.acquire(key, per_minute)
        capacity = float(max(1, per_minute))
        rate = capacity / 60.0
        try:
            with self._engine.begin() as conn:
                row = conn.execute(
                    _TAKE_TOKEN, {"bucket": key[:200], "capacity": capacity, "rate": rate}
                ).one()
            if self._sweep_due():  # its own transaction: the bucket's row lock is gone
                with self._engine.begin() as conn:
                    conn.execute(_FORGET_IDLE, {"idle": IDLE_SECONDS})
        except Exception as exc:  # database down or slow: limit in process meanwhile
            logger.warning(
                "shared rate limits unavailable (%s); limiting per process", type(exc).__name__
            )
            self._down_until = self._monotonic() + self._retry
            return self._fallback.acquire(key, per_minute)
        tokens, granted = float(row[0]), bool(row[1])
        return 0.0 if granted else (1.0 - tokens) / rate

    def _sweep_due(self) -> bool:
        # One caller per process and interval deletes idle buckets; the others go on.
        now = self._monotonic()
        with self._lock:
            if now < self._next_sweep:
                return False
            self._next_sweep = now + IDLE_SECONDS
            return True
