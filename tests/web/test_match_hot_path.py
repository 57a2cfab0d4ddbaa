"""`/v1/match` checks its key and writes its answer itself (no dependency injection): the
answers must be those the declared dependencies and response model would give."""

from __future__ import annotations

from safeguard.domain.service import Scope
from safeguard.web.match_schemas import MatchResponse
from tests.web.conftest import ApiClient


def test_the_answer_is_the_declared_model_as_json(api: ApiClient) -> None:
    answer = api.post("/v1/match", json={"pdq": "f" * 64, "content_id": "c1"}, scope=Scope.MATCH)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"  # the gate's headers stay
    parsed = MatchResponse.model_validate_json(answer.content)
    assert parsed.known is False
    assert parsed.verdict == "unknown"
    assert parsed.hashes.pdq == "f" * 64
    assert set(answer.json()) == set(MatchResponse.model_fields)


def test_keys_are_checked_as_the_other_routes_check_them(api: ApiClient) -> None:
    body = {"md5": "0" * 32}
    missing = api.post("/v1/match", json=body, scope=None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json() == {"detail": "an API key is required"}
    token = api.tokens[Scope.MATCH]
    other_scheme = api.post(
        "/v1/match", json=body, scope=None, headers={"Authorization": f"Basic {token}"}
    )
    assert other_scheme.status_code == 401  # only Bearer, as HTTPBearer reads it
    by_header = api.post("/v1/match", json=body, scope=None, headers={"X-API-Key": token})
    assert by_header.status_code == 200
    unknown = api.post(
        "/v1/match", json=body, scope=None, headers={"X-API-Key": "sg_0123456789ab_not-it"}
    )
    assert unknown.status_code == 401
    assert unknown.json() == {"detail": "unknown or revoked API key"}
    wrong = api.post("/v1/match", json=body, scope=Scope.LISTS_WRITE)
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "this key lacks the 'match' scope"}
    assert api.post("/v1/match", json=body, scope=Scope.ADMIN).status_code == 200


def test_bad_bodies_get_422_with_the_reason(api: ApiClient) -> None:
    def detail(content: bytes) -> str:
        answer = api.post(
            "/v1/match",
            content=content,
            headers={"Content-Type": "application/json"},
            scope=Scope.MATCH,
        )
        assert answer.status_code == 422, content
        text = answer.json()["detail"]
        assert isinstance(text, str)
        return text

    assert "not valid" in detail(b"{not json")
    assert "pdq_quality" in detail(b'{"pdq": "' + b"f" * 64 + b'", "pdq_quality": 101}')
    assert "NUL" in detail(b'{"md5": "' + b"0" * 32 + b'", "content_id": "a\\u0000b"}')
    assert "md5" in detail(b'{"md5": "zz"}')
    assert "at least one" in detail(b"{}")


def test_a_block_only_match_is_answered_without_waiting_for_its_record(api: ApiClient) -> None:
    md5 = "0" * 31 + "7"
    assert api.post("/v1/lists", json={"name": "blocking", "actions": ["block"]}).status_code == 201
    added = api.post(
        "/v1/lists/blocking/entries", json={"entries": [{"entry_id": "k", "md5": md5}]}
    )
    assert added.status_code == 200
    writer = api.services.seen_writer
    writer.start()  # as a running server does
    try:
        answer = api.post("/v1/match", json={"md5": md5}, scope=Scope.MATCH).json()
    finally:
        writer.stop()
    assert answer["known"] is True
    assert answer["block"] is True
    assert answer["actions"] == ["block"]
    assert answer["upload_id"] is None
    assert [m["entry_id"] for m in answer["matches"]] == ["k"]
    assert api.services.service_store.count_seen() == 1  # written when the writer stopped
