"""Rate limits shared by workers and replicas, spent from blocks of tokens each worker leases.

A shared bucket (`SharedBuckets`: Redis or PostgreSQL) holds each key's tokens for every
worker and replica. Asking it for every request cost a round trip (and, on an event loop,
a thread hop) per request, about as much CPU as the match it guarded. So `LeasedLimiter`
takes a *block* of tokens at a time and spends them in its own process; it goes back to the
shared bucket only when its block is spent, when the block is older than `LEASE_SECONDS`
(the renewal returns what is left of it), or when the key's rate changed. The shared bucket
sees about one call per block, not one per request.

**How exact.** Every token a worker spends was taken from the shared bucket, so:

* over any interval, all workers together allow a key at most what its shared bucket allows
  (its per-minute rate as a burst, then the refill) **plus at most one block per worker**:
  the tokens that workers held unspent when the interval began;
* in a burst they may allow up to one block per worker *fewer*, while those blocks sit
  unspent in workers that the key's requests no longer reach (returned at their next
  renewal; the long-run rate is unaffected, as the bucket refills meanwhile).

A block is `BLOCK_SHARE` of the per-minute rate, at least 1 and at most `MAX_BLOCK`
(`block_size`): a key of 6000 a minute takes blocks of 60, so 8 workers may allow 480 more
than 6000 in a minute's burst at worst; a rate under 200 a minute has blocks of 1 and is
exact as before. The shared bucket grants part of a block when it holds less than a block
(whole tokens only), so the last tokens of a busy key are not stranded in one worker.

**Refusals are remembered.** When the shared bucket has no whole token it says how long
until one; the worker answers that key's requests locally until then (``Retry-After``
counts down), instead of asking again per refused request.

**Fail open to local limits.** When the shared bucket errors, the worker limits on its own
(the ``fallback`` limiter, in process) for ``retry_seconds`` before trying again; requests go
on being limited per process rather than failing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger(__name__)

BLOCK_SHARE = 0.01
"""A block is this share of a key's per-minute rate (see `block_size`)."""

MAX_BLOCK = 100
"""Tokens in a block at most, whatever the rate: bounds what a worker may hold unspent."""

LEASE_SECONDS = 2.0
"""A block older than this is not spent: the next request renews it, returning its rest."""

MAX_LEASES = 100_000
"""Leases kept per process before stale ones are dropped (keys include client addresses)."""


class Limiter(Protocol):
    """What the service asks of a rate limiter.

    `acquire` may make a round trip to another server, so callers on an event loop first
    ask `acquire_locally` and call `acquire` from a thread only when it answers None.
    """

    def acquire(self, key: str, per_minute: int) -> float:
        """Take a token for `key`; 0 when allowed, else seconds until one is free."""
        ...

    def acquire_locally(self, key: str, per_minute: int) -> float | None:
        """`acquire` when it can answer without a round trip (no blocking); else None."""
        ...


class SharedBuckets(Protocol):
    """Token buckets held for every worker and replica; each call is atomic.

    A bucket holds up to ``per_minute`` tokens (at least 1), refilled continuously at
    ``per_minute / 60`` a second, and starts full.
    """

    def take(self, bucket: str, per_minute: int, want: int, unspent: int) -> tuple[int, float]:
        """Put back `unspent` tokens, then take up to `want` whole ones.

        Returns:
            (tokens taken, 0) when at least one was free, else (0, seconds until one is).
        """
        ...


def block_size(per_minute: int, share: float = BLOCK_SHARE, most: int = MAX_BLOCK) -> int:
    """Tokens a worker leases at a time for a key allowed `per_minute` requests a minute."""
    return max(1, min(most, int(per_minute * share)))


@dataclass(slots=True)
class _Lease:
    per_minute: int = 0
    tokens: int = 0  # taken from the shared bucket, not yet spent
    taken_at: float = float("-inf")
    refused_until: float = float("-inf")
    renewal: threading.Lock = field(default_factory=threading.Lock)


class LeasedLimiter:
    """A `Limiter` on `SharedBuckets` that spends leased blocks locally; thread-safe.

    See the module docstring for the bound on what it allows.

    Args:
        buckets: the shared buckets.
        fallback: the in-process limiter used while `buckets` errors.
        retry_seconds: after a failure, how long to use the fallback before trying again.
        block_share: a block's share of the per-minute rate (`block_size`).
        max_block: tokens in a block at most; 1 asks the shared buckets on every request.
        lease_seconds: age past which a block is renewed rather than spent.
    """

    def __init__(
        self,
        buckets: SharedBuckets,
        fallback: Limiter,
        retry_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        block_share: float = BLOCK_SHARE,
        max_block: int = MAX_BLOCK,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._buckets = buckets
        self._fallback = fallback
        self._retry = retry_seconds
        self._monotonic = monotonic
        self._block_share = block_share
        self._max_block = max_block
        self._lease_seconds = lease_seconds
        self._down_until = float("-inf")
        self._lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}

    def acquire_locally(self, key: str, per_minute: int) -> float | None:
        """`acquire` without a round trip, or None when the shared bucket must be asked.

        Answers with a leased token, a remembered refusal, or (while the shared buckets are
        down) the fallback.
        """
        now = self._monotonic()
        with self._lock:
            answer = self._local_answer(key, per_minute, now)
        if answer is None and now < self._down_until:
            return self._fallback.acquire_locally(key, per_minute)
        return answer

    def acquire(self, key: str, per_minute: int) -> float:
        """Take a token for `key`; see `Limiter.acquire`. May ask the shared bucket."""
        answer = self.acquire_locally(key, per_minute)
        if answer is not None:
            return answer
        if self._monotonic() < self._down_until:
            return self._fallback.acquire(key, per_minute)
        with self._lock:
            lease = self._leases.get(key)
            if lease is None:
                if len(self._leases) >= MAX_LEASES:
                    self._forget_stale(self._monotonic())
                lease = self._leases[key] = _Lease()
        # One renewal per key at a time in this process, so that it holds one block at most:
        # requests that find the block spent meanwhile wait here, then spend the new one.
        with lease.renewal:
            answer = self.acquire_locally(key, per_minute)
            if answer is not None:
                return answer
            return self._renew(key, lease, per_minute)

    def _local_answer(self, key: str, per_minute: int, now: float) -> float | None:
        lease = self._leases.get(key)
        if lease is None or lease.per_minute != per_minute:
            return None
        if lease.tokens > 0 and now - lease.taken_at < self._lease_seconds:
            lease.tokens -= 1
            return 0.0
        if now < lease.refused_until:
            return lease.refused_until - now
        return None

    def _renew(self, key: str, lease: _Lease, per_minute: int) -> float:
        with self._lock:  # what is left of the old block goes back with this call
            unspent, lease.tokens = lease.tokens, 0
        want = block_size(per_minute, self._block_share, self._max_block)
        try:
            taken, wait = self._buckets.take(key, per_minute, want, unspent)
        except Exception as exc:  # the store is down or slow: limit in process meanwhile
            logger.warning(
                "shared rate limits unavailable (%s); limiting per process", type(exc).__name__
            )
            self._down_until = self._monotonic() + self._retry
            return self._fallback.acquire(key, per_minute)
        now = self._monotonic()
        with self._lock:
            lease.per_minute = per_minute
            lease.taken_at = now
            if taken > 0:
                lease.tokens = taken - 1
                lease.refused_until = float("-inf")
                return 0.0
            lease.refused_until = now + wait
        return wait

    def _forget_stale(self, now: float) -> None:
        # Dropping a lease drops its unspent tokens (stricter, never looser); one being
        # renewed is kept, so that its key never has two blocks in this process.
        def stale(lease: _Lease) -> bool:
            expired = now - lease.taken_at >= self._lease_seconds
            return expired and now >= lease.refused_until and not lease.renewal.locked()

        for key in [key for key, lease in self._leases.items() if stale(lease)]:
            del self._leases[key]
        if len(self._leases) >= MAX_LEASES:  # all live: a flood of addresses; start over
            busy = {key: lease for key, lease in self._leases.items() if lease.renewal.locked()}
            self._leases = busy

    def __len__(self) -> int:
        """Leases held now."""
        return len(self._leases)
