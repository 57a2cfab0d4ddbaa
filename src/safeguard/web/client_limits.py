"""A rate limit per client address for requests that carry no valid key.

An anonymous client can send requests with no key, with guessed tokens (each unknown one
would cost a store lookup), with a stale session cookie or with wrong passwords. Each such
request takes a token from the client address's bucket, ``unauthenticated_rate_per_minute``
a minute (the service's shared limiter: Redis, PostgreSQL or per process, as for API
keys); over it the answer is 429 with ``Retry-After``, before any lookup is made. Requests
with a valid, cached key are never charged.

* **Who is charged.** `RequestGate` charges every request without credentials (no
  ``Authorization``, ``X-API-Key`` or session cookie). `safeguard.web.auth` charges a
  request whose token is not a cached valid key *before* looking it up, so guessed tokens
  cost at most the client's rate in store lookups; a token that was a valid key is looked
  up again uncharged when its cached answer expires. Every sign-in attempt is charged
  before its password is hashed; session cookies are charged when they fail. A request is
  charged once, whoever charges it first.
* **Answered locally.** When the shared bucket says "wait", the address is remembered in
  this process until then, so a flood is refused without a round trip to the limiter.
* **Outside the limit:** ``/healthz``, ``/readyz`` and ``/metrics`` (probes and scrapers),
  and loopback clients when the HMA routes are open to the loopback without a key.
* **Which address.** The socket's peer address. Only when that peer is one of
  ``trusted_proxies`` (addresses or networks) is the client taken from
  ``X-Forwarded-For``: the right-most address there that is not itself a trusted proxy.
  IPv6 clients are limited per /64 network (one subscriber's usual allocation).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from safeguard.domain.errors import ConfigurationError
from safeguard.storage.shared_rate_limits import Limiter

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and the metrics scraper are never limited per address."""

_CHARGED = "client_limit_charged"
_MAX_REMEMBERED = 100_000

Network = IPv4Network | IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks (the ``trusted_proxies`` setting).

    Raises:
        ConfigurationError: an item is neither.
    """
    networks: list[Network] = []
    for item in value.split(","):
        if item.strip():
            try:
                networks.append(ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ConfigurationError(f"trusted_proxies: {exc}") from exc
    return tuple(networks)


def _within(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


class ClientLimits:
    """The per-address limit of one app (see the module docstring); thread-safe.

    Args:
        limiter: the service's rate limiter (its buckets are named ``client:<address>``).
        per_minute: requests without a valid key one address may make a minute; 0 turns
            the limit off.
        trusted_proxies: comma-separated proxy addresses or networks whose
            ``X-Forwarded-For`` is believed.
        loopback_exempt: loopback clients are not limited (HMA routes open to the loopback).
    """

    def __init__(
        self,
        limiter: Limiter,
        per_minute: int,
        trusted_proxies: str = "",
        loopback_exempt: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limiter = limiter
        self.per_minute = per_minute
        self._trusted = parse_networks(trusted_proxies)
        self._loopback_exempt = loopback_exempt
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._blocked: dict[str, float] = {}

    def address(self, scope: Scope) -> str:
        """The client address the request is charged to (IPv6: its /64 network)."""
        client = scope.get("client")
        host = str(client[0]) if client else ""
        if self._trusted and _within(host, self._trusted):
            forwarded = [
                part.strip()
                for name, value in scope.get("headers", [])
                if name == b"x-forwarded-for"
                for part in value.decode("latin-1").split(",")
            ]
            for candidate in reversed(forwarded):
                if not _within(candidate, self._trusted):
                    host = candidate
                    break
        try:
            parsed = ip_address(host)
        except ValueError:
            return host[:64] or "unknown"
        if isinstance(parsed, IPv6Address):
            if parsed.ipv4_mapped is not None:
                return str(parsed.ipv4_mapped)
            return str(ip_network(f"{parsed}/64", strict=False))
        return str(parsed)

    def applies(self, scope: Scope) -> bool:
        """Whether this request is subject to the limit at all."""
        if self.per_minute <= 0 or scope.get("path", "") in EXEMPT_PATHS:
            return False
        if self._loopback_exempt:
            client = scope.get("client")
            try:
                return not (client and ip_address(client[0]).is_loopback)
            except ValueError:
                return True
        return True

    def blocked(self, scope: Scope) -> float:
        """Seconds until this request's address may try again (0: it may now); no round trip."""
        if not self.applies(scope):
            return 0.0
        until = self._blocked.get(self.address(scope))
        return 0.0 if until is None else max(0.0, until - self._monotonic())

    async def charge(self, scope: Scope) -> float:
        """Take a token for the request's address, once per request; 0 or seconds to wait."""
        if not self.applies(scope):
            return 0.0
        state = scope.setdefault("state", {})
        if state.get(_CHARGED):
            return 0.0
        state[_CHARGED] = True
        address = self.address(scope)
        waiting = self.blocked(scope)
        if waiting > 0:
            return waiting
        wait = await acquire_token(self._limiter, f"client:{address}", self.per_minute)
        if wait > 0:
            with self._lock:
                if len(self._blocked) >= _MAX_REMEMBERED:
                    self._blocked.clear()
                self._blocked[address] = self._monotonic() + wait
        return wait


async def acquire_token(limiter: Limiter, bucket: str, per_minute: int) -> float:
    """`Limiter.acquire` from an event loop, in a thread only when it needs a round trip.

    A leased token or a remembered refusal is answered in line (`Limiter.acquire_locally`).
    """
    wait = limiter.acquire_locally(bucket, per_minute)
    if wait is None:
        wait = await run_in_threadpool(limiter.acquire, bucket, per_minute)
    return wait


def retry_after(wait: float) -> str:
    """A ``Retry-After`` value (whole seconds, at least 1) for a wait in seconds."""
    return str(max(1, math.ceil(wait)))


REFUSAL = "too many requests without a valid key from this address; retry later"
"""The 429 detail, the same whoever refuses."""
