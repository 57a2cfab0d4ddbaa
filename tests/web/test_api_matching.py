"""Hash and match endpoints, on SQLite and on PostgreSQL. Images are generated stand-ins."""

from __future__ import annotations

import pytest

from safeguard.domain.service import Scope
from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.web.conftest import MAX_UPLOAD, ApiClient


@pytest.fixture(scope="module")
def listed_photo() -> bytes:
    """Stands in for a listed image."""
    return encode(synthetic_photo(11, 1000, 1000))


@pytest.fixture(scope="module")
def recompressed_photo() -> bytes:
    """The same picture saved again at a lower quality: a near, not exact, copy."""
    return encode(synthetic_photo(11, 1000, 1000), quality=55)


def listed(api: ApiClient, photo: bytes, actions: list[str]) -> dict[str, object]:
    hashes = api.post("/v1/hash", content=photo).json()
    created = api.post("/v1/lists", json={"name": "bad", "actions": actions, "version": "v3"})
    assert created.status_code == 201, created.text
    entry = {
        "entry_id": "e1",
        "pdq": hashes["pdq"],
        "md5": hashes["md5"],
        "category_scheme": "industry",
        "category_code": "B1",
        "source_record_id": "ncmec-123",
        "series": "stand-in",
    }
    assert api.post("/v1/lists/bad/entries", json={"entries": [entry]}).status_code == 200
    return hashes


def test_hash_returns_the_hash_record(api: ApiClient, listed_photo: bytes) -> None:
    response = api.post("/v1/hash", content=listed_photo, scope=Scope.MATCH)
    assert response.status_code == 200
    record = response.json()
    assert len(record["md5"]) == 32
    assert len(record["sha256"]) == 64
    assert len(record["pdq"]) == 64
    assert record["pdq_quality"] >= 50
    assert record["media_type"] == "image/jpeg"
    # hashing keeps nothing
    assert api.services.service_store.count_seen() == 0


def test_match_upload_answers_with_provenance_and_actions(
    any_api: ApiClient, listed_photo: bytes, recompressed_photo: bytes
) -> None:
    listed(any_api, listed_photo, ["block", "report"])
    response = any_api.post(
        "/v1/match",
        content=recompressed_photo,
        headers={"Content-Type": "image/jpeg"},
        params={"content_id": "post-1", "user_id": "user-9", "ip_address": "203.0.113.5"},
        scope=Scope.MATCH,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["known"] is True
    assert body["block"] is True
    assert body["actions"] == ["block", "report"]
    [match] = body["matches"]
    assert match["list_name"] == "bad"
    assert match["list_version"] == "v3"
    assert match["algorithm"] == "pdq"
    assert match["distance"] <= match["threshold"] == 31
    assert match["query_quality"] >= 50
    assert match["category"] == {
        "scheme": "industry",
        "code": "B1",
        "label": "Industry B1",
    }
    assert match["provenance"]["source_record_id"] == "ncmec-123"
    report = any_api.get(f"/v1/reports/{body['report_id']}", scope=Scope.REPORTS_REVIEW).json()
    assert report["reported_user"] == "user-9"
    assert report["ip_address"] == "203.0.113.5"
    assert report["industry_classification"] == "B1"


def test_match_by_hashes_json(any_api: ApiClient, listed_photo: bytes) -> None:
    hashes = listed(any_api, listed_photo, ["block"])
    exact = any_api.post("/v1/match", json={"md5": hashes["md5"]}, scope=Scope.MATCH).json()
    assert exact["block"] is True
    assert exact["matches"][0]["algorithm"] == "md5"
    assert exact["matches"][0]["distance"] == 0
    unknown = any_api.post("/v1/match", json={"sha1": "0" * 40}, scope=Scope.MATCH).json()
    assert unknown["known"] is False
    assert unknown["verdict"] == "unknown"
    assert unknown["matches"] == []
    low_quality = any_api.post(
        "/v1/match", json={"pdq": hashes["pdq"], "pdq_quality": 10}, scope=Scope.MATCH
    ).json()
    assert low_quality["matches"] == []


def test_batch_match_by_json_and_by_files(
    api: ApiClient, listed_photo: bytes, recompressed_photo: bytes
) -> None:
    hashes = listed(api, listed_photo, ["block"])
    items = [{"md5": hashes["md5"]}, {"pdq": "xyz"}, {"sha256": "1" * 64}]
    response = api.post("/v1/match/batch", json={"items": items}, scope=Scope.MATCH)
    assert response.status_code == 200
    out = response.json()["items"]
    assert out[0]["result"]["block"] is True
    assert out[1]["result"] is None
    assert "pdq needs 64 hex digits" in out[1]["error"]
    assert out[2]["result"]["known"] is False
    files = [
        ("files", ("a.jpg", recompressed_photo, "image/jpeg")),
        ("files", ("b.jpg", encode(synthetic_photo(99, 300, 300)), "image/jpeg")),
        ("files", ("broken.jpg", b"\xff\xd8\xff\xe0broken", "image/jpeg")),
    ]
    response = api.post("/v1/match/batch", files=files, scope=Scope.MATCH)
    assert response.status_code == 200, response.text
    out = response.json()["items"]
    assert [o["name"] for o in out] == ["a.jpg", "b.jpg", "broken.jpg"]
    assert out[0]["result"]["known"] is True
    assert out[1]["result"]["known"] is False
    assert out[2]["error"]


def test_batch_hash(api: ApiClient, listed_photo: bytes) -> None:
    files = [("files", ("a.jpg", listed_photo, "image/jpeg")), ("files", ("e.bin", b"", "x/y"))]
    out = api.post("/v1/hash/batch", files=files, scope=Scope.MATCH).json()["items"]
    assert len(out[0]["hashes"]["pdq"]) == 64
    assert out[1]["error"] == "the upload is empty"


def test_limits_413_and_422(api: ApiClient) -> None:
    too_big = api.post("/v1/match", content=b"\x00" * (MAX_UPLOAD + 1), scope=Scope.MATCH)
    assert too_big.status_code == 413

    async def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(4):
            yield b"\x00" * (MAX_UPLOAD // 2)

    streamed = api.post("/v1/hash", content=chunks(), scope=Scope.MATCH)
    assert streamed.status_code == 413
    bad_image = api.post("/v1/match", content=b"\x89PNG\r\n\x1a\nnot really", scope=Scope.MATCH)
    assert bad_image.status_code == 422
    assert "png" in bad_image.json()["detail"].lower()
    # Over the 4 MP test limit (a PNG: a JPEG this size is decoded at half scale, 1 MP).
    huge = encode(synthetic_photo(3, 420, 400).resize((2100, 2000)).convert("L"), "PNG")
    too_many_pixels = api.post("/v1/match", content=huge, scope=Scope.MATCH)
    assert too_many_pixels.status_code == 422
    assert "pixel" in too_many_pixels.json()["detail"].lower()
    bad_json = api.post("/v1/match", json={"md5": "zz"}, scope=Scope.MATCH)
    assert bad_json.status_code == 422


def test_match_accepts_a_one_file_form(api: ApiClient, listed_photo: bytes) -> None:
    listed(api, listed_photo, ["block"])
    files = {"file": ("upload.jpg", listed_photo, "image/jpeg")}
    answer = api.post("/v1/match", files=files, scope=Scope.MATCH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["block"] is True
    two = [
        ("f", ("a.jpg", listed_photo, "image/jpeg")),
        ("f", ("b.jpg", listed_photo, "image/jpeg")),
    ]
    assert api.post("/v1/match", files=two, scope=Scope.MATCH).status_code == 422


def test_per_list_threshold_decides_a_near_match(api: ApiClient) -> None:
    pdq = "5a" * 32
    near = f"{int(pdq, 16) ^ ((1 << 12) - 1):064x}"  # 12 bits away
    api.post("/v1/lists", json={"name": "t", "actions": ["block"]})
    api.post("/v1/lists/t/entries", json={"entries": [{"entry_id": "e", "pdq": pdq}]})
    first = api.post("/v1/match", json={"pdq": near}, scope=Scope.MATCH).json()
    assert first["matches"][0]["distance"] == 12
    assert first["matches"][0]["threshold"] == 31
    api.patch("/v1/lists/t", json={"pdq_threshold": 10})
    assert api.post("/v1/match", json={"pdq": near}, scope=Scope.MATCH).json()["matches"] == []


def test_match_by_an_equal_photodna_value(api: ApiClient) -> None:
    import base64

    from safeguard.domain.digests import HashAlgorithm
    from safeguard.domain.hash_lists import HashEntry, HashList, ListKind

    raw = bytes(range(144))  # a stand-in value; PhotoDNA is never computed here
    admin = api.services.list_administration
    admin.create_list(HashList("pdna", ListKind.KNOWN_BAD, action="block"), "test")
    entry = HashEntry("p1", {HashAlgorithm.PHOTODNA: base64.b64encode(raw).decode("ascii")})
    admin.add_entries("pdna", [entry], "test")
    found = api.post("/v1/match", json={"photodna": raw.hex()}, scope=Scope.MATCH).json()
    assert found["block"] is True
    (match,) = found["matches"]
    assert (match["algorithm"], match["entry_id"], match["distance"]) == ("photodna", "p1", 0)


def test_hash_of_a_multipart_upload_is_the_file_s(api: ApiClient, listed_photo: bytes) -> None:
    direct = api.post("/v1/hash", content=listed_photo, scope=Scope.MATCH).json()
    # As `curl -F photo=@x.jpg` sends it: the picture's hashes, never the envelope's.
    files = {"photo": ("x.jpg", listed_photo, "image/jpeg")}
    answer = api.post("/v1/hash", files=files, scope=Scope.MATCH)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert record["md5"] == direct["md5"]
    assert record["pdq"] == direct["pdq"]
    assert record["media_type"] == "image/jpeg"
    two = [("a", ("a.jpg", listed_photo, "image/jpeg")), ("b", ("b.jpg", listed_photo, "x/y"))]
    assert api.post("/v1/hash", files=two, scope=Scope.MATCH).status_code == 422


@pytest.mark.parametrize("route", ["/v1/hash/batch", "/v1/match/batch"])
def test_batch_routes_refuse_other_field_names(
    api: ApiClient, listed_photo: bytes, route: str
) -> None:
    files = [
        ("files", ("a.jpg", listed_photo, "image/jpeg")),
        ("photo", ("b.jpg", listed_photo, "image/jpeg")),
    ]
    answer = api.post(route, files=files, scope=Scope.MATCH)
    assert answer.status_code == 422
    assert "'files'" in answer.json()["detail"]
    assert "'photo'" in answer.json()["detail"]
