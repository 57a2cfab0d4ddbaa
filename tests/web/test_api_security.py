"""Keys and scopes (401, 403), rate limits (429), probes and metrics; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest

from safeguard.domain.service import Scope
from tests.web.conftest import ApiClient

ENDPOINTS: list[tuple[str, str, Scope]] = [
    ("POST", "/v1/hash", Scope.MATCH),
    ("POST", "/v1/hash/batch", Scope.MATCH),
    ("POST", "/v1/match", Scope.MATCH),
    ("POST", "/v1/match/batch", Scope.MATCH),
    ("GET", "/v1/lists", Scope.LISTS_WRITE),
    ("POST", "/v1/lists", Scope.LISTS_WRITE),
    ("GET", "/v1/lists/x", Scope.LISTS_WRITE),
    ("PATCH", "/v1/lists/x", Scope.LISTS_WRITE),
    ("POST", "/v1/lists/x/import", Scope.LISTS_WRITE),
    ("POST", "/v1/lists/x/entries", Scope.LISTS_WRITE),
    ("DELETE", "/v1/lists/x/entries", Scope.LISTS_WRITE),
    ("DELETE", "/v1/lists/x/entries/y", Scope.LISTS_WRITE),
    ("GET", "/v1/reports", Scope.REPORTS_REVIEW),
    ("GET", "/v1/reports/1", Scope.REPORTS_REVIEW),
    ("POST", "/v1/reports/1/confirm", Scope.REPORTS_REVIEW),
    ("POST", "/v1/reports/1/dismiss", Scope.REPORTS_REVIEW),
    ("GET", "/v1/quarantine", Scope.REPORTS_REVIEW),
    ("GET", "/v1/audit", Scope.ADMIN),
    ("GET", "/v1/webhooks/deliveries", Scope.ADMIN),
]


def test_every_endpoint_needs_a_key_with_its_scope(any_api: ApiClient) -> None:
    for method, path, scope in ENDPOINTS:
        assert any_api.request(method, path, scope=None).status_code == 401, path
        wrong = next(s for s in Scope if s not in (scope, Scope.ADMIN))
        assert any_api.request(method, path, scope=wrong).status_code == 403, path
        allowed = any_api.request(method, path, scope=scope).status_code
        assert allowed not in (401, 403, 500), (path, allowed)
    # the token also works in X-API-Key, and a made-up token does not
    header = {"X-API-Key": any_api.tokens[Scope.LISTS_WRITE]}
    assert any_api.get("/v1/lists", scope=None, headers=header).status_code == 200
    fake = {"Authorization": "Bearer sg_0123456789ab_not-the-secret"}
    assert any_api.get("/v1/lists", scope=None, headers=fake).status_code == 401


def test_revoked_key_is_refused(api: ApiClient) -> None:
    issued = api.services.api_keys.create("short-lived", [Scope.MATCH])
    header = {"Authorization": f"Bearer {issued.token}"}
    api.services.api_keys.revoke(issued.key.key_id)
    assert (
        api.post("/v1/match", json={"md5": "0" * 32}, scope=None, headers=header).status_code == 401
    )


def test_rate_limit_per_key(api: ApiClient) -> None:
    slow = api.services.api_keys.create("slow", [Scope.MATCH], rate_per_minute=2)
    header = {"Authorization": f"Bearer {slow.token}"}
    codes = [
        api.post("/v1/match", json={"md5": "0" * 32}, scope=None, headers=header).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    limited = api.post("/v1/match", json={"md5": "0" * 32}, scope=None, headers=header)
    assert int(limited.headers["Retry-After"]) >= 1
    # other keys are unaffected
    assert api.post("/v1/match", json={"md5": "0" * 32}, scope=Scope.MATCH).status_code == 200


def test_probes_and_metrics(api: ApiClient) -> None:
    assert api.get("/healthz", scope=None).json() == {"status": "ok"}
    ready = api.get("/readyz", scope=None)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    api.post("/v1/lists", json={"name": "m", "actions": ["block"]})
    api.post("/v1/lists/m/entries", json={"entries": [{"entry_id": "1", "md5": "4" * 32}]})
    api.post("/v1/match", json={"md5": "4" * 32})
    assert api.get("/metrics", scope=None).status_code == 401
    assert api.get("/metrics", scope=Scope.MATCH).status_code == 403
    text = api.get("/metrics").text
    assert 'safeguard_http_requests_total{method="POST",route="/v1/match",status="200"} 1' in text
    assert (
        'safeguard_http_request_duration_seconds_bucket{method="POST",route="/v1/match",le="+Inf"} 1'
        in text
    )
    assert 'safeguard_matches_total{list="m"} 1' in text
    assert "safeguard_index_entries 1" in text
    assert "safeguard_index_age_seconds" in text
    assert "4" * 32 not in text


def test_readyz_fails_when_the_index_is_stale(api: ApiClient) -> None:
    api.get("/readyz", scope=None)
    keeper = api.services.index_keeper
    keeper._checked_at = keeper._clock().replace(year=2000)
    stale = api.get("/readyz", scope=None)
    assert stale.status_code == 503
    assert stale.json()["status"] == "index-stale"


def test_logs_hold_no_hashes_keys_or_addresses(
    api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api.post("/v1/lists", json={"name": "l", "actions": ["webhook"]})  # webhook without URL
    api.post("/v1/lists/l/entries", json={"entries": [{"entry_id": "1", "md5": "5" * 32}]})
    api.post("/v1/match", json={"md5": "5" * 32, "ip_address": "192.0.2.44"})
    logged = caplog.text
    assert "5" * 32 not in logged
    assert "192.0.2.44" not in logged
    assert all(token not in logged for token in api.tokens.values())
