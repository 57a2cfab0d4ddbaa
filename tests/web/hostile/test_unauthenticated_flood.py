"""Floods without a valid key: each client address is limited, and guesses cost bounded lookups.

In-process (the app over ASGI, each request from a chosen client address), on SQLite: the
per-address limit does not depend on the store, and the shared limiters are tested against
Redis and PostgreSQL in tests/integration.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal

from safeguard.bootstrap import Services, build_services
from safeguard.domain.service import Scope
from safeguard.storage.memory_rate_limits import TokenBucketLimiter
from safeguard.web.app import create_app
from safeguard.web.client_limits import ClientLimits
from safeguard.web.key_cache import KeyCache
from tests.conftest import private_postgres_database
from tests.web.conftest import service_settings

RATE = 30
ATTACKER = "203.0.113.9"
NEIGHBOUR = "198.51.100.7"
PROXY = "192.0.2.1"


class Clients:
    """The app on one set of services, reached from any client address."""

    def __init__(self, services: Services, portal: BlockingPortal) -> None:
        self.services = services
        self.app = create_app(services, background=False)
        self._portal = portal

    def request(self, address: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://s.test") as c:
                return await c.request(method, url, **kwargs)

        return self._portal.call(send)


def _clients(tmp_path: Path, portal: BlockingPortal, **overrides: object) -> Iterator[Clients]:
    settings = service_settings(tmp_path).with_overrides(
        unauthenticated_rate_per_minute=RATE, **overrides
    )
    services = build_services(settings)
    # Buckets that do not refill while the test runs (a slow box would earn tokens).
    services.__dict__["rate_limiter"] = TokenBucketLimiter(monotonic=lambda: 0.0)
    yield Clients(services, portal)
    services.engine.dispose()


@pytest.fixture
def clients(tmp_path: Path, portal: BlockingPortal) -> Iterator[Clients]:
    yield from _clients(tmp_path, portal)


def _counting(services: Services, name: str, target: object) -> list[str]:
    calls: list[str] = []
    original = getattr(target, name)

    def counted(token: str) -> object:
        calls.append(token)
        return original(token)

    setattr(target, name, counted)
    return calls


def _counting_call(target: object, name: str) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []
    original = getattr(target, name)

    def counted(*args: object) -> object:
        calls.append(args)
        return original(*args)

    setattr(target, name, counted)
    return calls


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_guessed_tokens_cost_at_most_the_rate_in_store_lookups(clients: Clients) -> None:
    services = clients.services
    valid = services.api_keys.create("platform", [Scope.MATCH]).token
    # The platform's key is looked up (one token of the address) and cached before the
    # flood, from the same address.
    clients.request(ATTACKER, "POST", "/v1/hash", content=b"x", headers=_bearer(valid))
    lookups = _counting(services, "authenticate", services.api_keys)
    left = RATE - 1
    statuses = [
        clients.request(
            ATTACKER, "POST", "/v1/match", json={"md5": "0" * 32}, headers=_bearer(guess)
        ).status_code
        for guess in (f"sg_{secrets.token_urlsafe(24)}" for _ in range(3 * RATE))
    ]
    assert statuses[:left] == [401] * left
    assert statuses[left:] == [429] * (3 * RATE - left)
    assert len(lookups) == left  # not one lookup per guess
    refused = clients.request(ATTACKER, "GET", "/v1/lists", headers=_bearer("sg_guess"))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    # A cached valid key from that address goes on; other addresses are not affected.
    ok = clients.request(
        ATTACKER, "POST", "/v1/match", json={"md5": "0" * 32}, headers=_bearer(valid)
    )
    assert ok.status_code == 200, ok.text
    assert (
        clients.request(NEIGHBOUR, "GET", "/v1/lists", headers=_bearer("sg_x")).status_code == 401
    )
    assert len(lookups) == left + 1


def test_a_valid_key_is_never_refused_for_its_address(clients: Clients) -> None:
    services = clients.services
    # Every answer expires at once: each request of the valid key is a lookup.
    clients.app.state.safeguard.key_cache = KeyCache(ttl=0.0)
    valid = services.api_keys.create("platform", [Scope.MATCH]).token
    query = {"json": {"md5": "0" * 32}}
    first = clients.request(ATTACKER, "POST", "/v1/match", headers=_bearer(valid), **query)
    assert first.status_code == 200, first.text
    for _ in range(RATE):
        clients.request(ATTACKER, "GET", "/v1/lists", headers=_bearer("sg_guess"))
    assert clients.request(ATTACKER, "GET", "/v1/lists").status_code == 429
    # Its lookups are revalidations: not charged, and not refused while the address is.
    for _ in range(2 * RATE):
        answer = clients.request(ATTACKER, "POST", "/v1/match", headers=_bearer(valid), **query)
        assert answer.status_code == 200, answer.text


def test_requests_without_a_key_are_limited_but_probes_are_not(clients: Clients) -> None:
    statuses = [clients.request(ATTACKER, "GET", "/v1/lists").status_code for _ in range(RATE + 5)]
    assert statuses == [401] * RATE + [429] * 5
    for path in ("/v1/lists", "/ui/login", "/docs", "/nowhere"):
        answer = clients.request(ATTACKER, "GET", path)
        assert answer.status_code == 429, path
        assert answer.headers["Retry-After"]
    for _ in range(3):
        assert clients.request(ATTACKER, "GET", "/healthz").status_code == 200
        assert clients.request(ATTACKER, "GET", "/readyz").status_code == 200
        assert clients.request(ATTACKER, "GET", "/metrics").status_code == 401  # not 429
    assert clients.request(NEIGHBOUR, "GET", "/ui/login").status_code == 200


def test_guessed_session_cookies_are_limited_too(clients: Clients) -> None:
    services = clients.services
    resolves = _counting(services, "resolve", services.sign_in)
    statuses = []
    for _ in range(RATE + 10):
        cookie = {"Cookie": f"safeguard_session={secrets.token_urlsafe(24)}"}
        statuses.append(clients.request(ATTACKER, "GET", "/ui/", headers=cookie).status_code)
    assert statuses[:RATE] == [303] * RATE  # to the sign-in page
    assert statuses[RATE:] == [429] * 10
    # Charged when they fail: the lookup that finds the bucket empty is the last one.
    assert len(resolves) == RATE + 1


def test_sign_in_attempts_are_charged_before_the_password_is_hashed(clients: Clients) -> None:
    services = clients.services
    attempts = _counting_call(services.sign_in, "sign_in")
    # A made-up Authorization header: the gate takes it for credentials, the page does not.
    headers = {"Authorization": "Basic eDp5", "Cookie": "safeguard_login_csrf=s3cret"}
    form = {"login_csrf": "s3cret", "username": "nobody", "password": "guess"}
    statuses = [
        clients.request(ATTACKER, "POST", "/ui/login", headers=headers, data=form).status_code
        for _ in range(RATE + 5)
    ]
    assert statuses == [403] * RATE + [429] * 5
    assert len(attempts) == RATE


def test_a_trusted_proxy_names_the_client_and_others_cannot(
    tmp_path: Path, portal: BlockingPortal
) -> None:
    for clients in _clients(tmp_path, portal, trusted_proxies=f"{PROXY},10.0.0.0/8"):
        forwarded = {"X-Forwarded-For": f"{ATTACKER}, 10.1.2.3"}
        statuses = [
            clients.request(PROXY, "GET", "/v1/lists", headers=forwarded).status_code
            for _ in range(RATE + 1)
        ]
        assert statuses[-1] == 429
        # Another client behind the same proxy has its own bucket.
        other = {"X-Forwarded-For": NEIGHBOUR}
        assert clients.request(PROXY, "GET", "/v1/lists", headers=other).status_code == 401
        # An untrusted peer cannot choose its bucket by sending the header.
        spoofed = [
            clients.request(
                "198.51.100.99", "GET", "/v1/lists", headers={"X-Forwarded-For": f"203.0.113.{n}"}
            ).status_code
            for n in range(RATE + 1)
        ]
        assert spoofed[-1] == 429


def test_client_addresses_group_ipv6_by_network() -> None:
    class Never:
        def acquire(self, key: str, per_minute: int) -> float:
            return 0.0

        def acquire_locally(self, key: str, per_minute: int) -> float:
            return 0.0

    limits = ClientLimits(Never(), 10, trusted_proxies="192.0.2.0/24")

    def address(peer: str, forwarded: str = "") -> str:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return limits.address({"client": (peer, 1), "headers": headers})

    assert address("2001:db8:1:2:3:4:5:6") == address("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address("::ffff:198.51.100.4") == "198.51.100.4"
    assert address("192.0.2.10", "198.51.100.4, 192.0.2.11") == "198.51.100.4"
    assert address("192.0.2.10", "not-an-address") == "not-an-address"
    assert address("198.51.100.8", "203.0.113.1") == "198.51.100.8"


@pytest.mark.postgres
def test_two_replicas_on_postgresql_share_each_addresss_bucket(
    tmp_path: Path, portal: BlockingPortal
) -> None:
    with private_postgres_database("guard_client_limits") as url:
        replicas = []
        for name in ("a", "b"):
            settings = service_settings(tmp_path / name, url).with_overrides(
                unauthenticated_rate_per_minute=RATE
            )
            replicas.append(Clients(build_services(settings), portal))
        try:
            assert type(replicas[0].services.rate_limiter).__name__ == "SqlRateLimiter"
            statuses = [
                replicas[n % 2].request(ATTACKER, "GET", "/v1/lists").status_code
                for n in range(RATE + 6)
            ]
        finally:
            for replica in replicas:
                replica.services.engine.dispose()
    # RATE together, not RATE on each; a slow run may earn a token or two of refill.
    assert RATE <= statuses.count(401) <= RATE + 3, statuses
    assert 429 in statuses[0::2], statuses
    assert 429 in statuses[1::2], statuses
