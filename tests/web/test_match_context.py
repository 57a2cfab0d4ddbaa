"""The upload context of `/v1/match` is read from the query string only for uploads."""

from __future__ import annotations

from safeguard.domain.service import Scope
from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.web.conftest import ApiClient


def test_a_bad_context_value_is_refused_with_422(api: ApiClient) -> None:
    photo = encode(synthetic_photo(3, 320, 240))
    response = api.post(
        "/v1/match",
        content=photo,
        headers={"Content-Type": "image/jpeg"},
        params={"uploaded_at": "not a time", "user_id": "u" * 300},
        scope=Scope.MATCH,
    )
    assert response.status_code == 422
    assert {tuple(e["loc"])[-1] for e in response.json()["detail"]} == {"uploaded_at", "user_id"}


def test_the_context_is_kept_with_the_upload(api: ApiClient) -> None:
    photo = encode(synthetic_photo(4, 320, 240))
    response = api.post(
        "/v1/match",
        content=photo,
        headers={"Content-Type": "image/jpeg"},
        params={"content_id": "post-7", "uploaded_at": "2026-11-29T10:00:00Z"},
        scope=Scope.MATCH,
    )
    assert response.status_code == 200, response.text
    seen = api.services.service_store.get_seen(response.json()["upload_id"])
    assert seen.context.content_id == "post-7"
    assert seen.context.uploaded_at is not None
