"""The HMA-compatible routes, driven with HMA 2.0's own request and response shapes.

Shapes come from HMA's OpenAPI and blueprints (OpenMediaMatch/blueprints/{hashing,matching,
curation}.py): multipart uploads in a field named by the content type, ``{bank:
[{bank_content_id, distance}]}`` look-ups, ``{"message": ...}`` errors. Images are generated
stand-ins for listed content.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import BlockingPortal

from safeguard.bootstrap import build_services
from safeguard.domain.service import Scope
from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.web.conftest import ApiClient, service_settings


@pytest.fixture(scope="module")
def photo() -> bytes:
    return encode(synthetic_photo(21, 800, 800))


@pytest.fixture(scope="module")
def near_copy() -> bytes:
    return encode(synthetic_photo(21, 800, 800), quality=50)


def hma_client(tmp_path: Path, portal: BlockingPortal, mode: str) -> Iterator[ApiClient]:
    settings = replace(service_settings(tmp_path), hma_api=mode)
    services = build_services(settings)
    client = ApiClient(services, portal)
    yield client
    client.close()
    services.engine.dispose()


@pytest.fixture
def hma(tmp_path: Path, portal: BlockingPortal) -> Iterator[ApiClient]:
    yield from hma_client(tmp_path, portal, "key")


def test_off_by_default(api: ApiClient) -> None:
    for path in ("/status", "/m/lookup?signal_type=pdq&signal=00", "/c/banks"):
        assert api.get(path).status_code == 404


def test_bank_content_lookup_and_compare_in_hma_shapes(
    hma: ApiClient, photo: bytes, near_copy: bytes
) -> None:
    # In-process there is no lifespan: the index loads on the first call that needs it.
    cold = hma.get("/status", scope=None)
    assert (cold.status_code, cold.text) == (503, "INDEX-NOT-LOADED")
    assert hma.get("/status/live", scope=None).text == "I-AM-ALIVE"
    hma.services.index_keeper.ensure_fresh()
    assert hma.get("/status", scope=None).text == "I-AM-ALIVE"

    created = hma.post("/c/banks", json={"name": "TEST_BANK"}, scope=Scope.LISTS_WRITE)
    assert created.status_code == 201, created.text
    assert created.json() == {"name": "TEST_BANK", "matching_enabled_ratio": 1.0}
    assert hma.post("/c/banks", json={"name": "TEST_BANK"}).status_code == 403
    assert {"name": "TEST_BANK", "matching_enabled_ratio": 1.0} in hma.get("/c/banks").json()

    # curl -F photo=@x.jpg .../c/bank/TEST_BANK/content
    files = {"photo": ("x.jpg", photo, "image/jpeg")}
    form = {"metadata": '{"content_id": "upload-77"}', "note": "stand-in"}
    added = hma.post("/c/bank/TEST_BANK/content", files=files, data=form, scope=Scope.LISTS_WRITE)
    assert added.status_code == 200, added.text
    content_id = added.json()["id"]
    assert isinstance(content_id, int)
    pdq = added.json()["signals"]["pdq"]
    assert hma.post("/h/hash", files=files).json() == {"pdq": pdq}

    lookup = hma.get(f"/m/lookup?signal_type=pdq&signal={pdq}", scope=Scope.MATCH)
    assert lookup.status_code == 200, lookup.text
    assert lookup.json() == {"TEST_BANK": [{"bank_content_id": content_id, "distance": "0"}]}
    raw = hma.get(f"/m/raw_lookup?signal_type=pdq&signal={pdq}", scope=Scope.MATCH).json()
    assert raw == {"matches": [content_id]}
    with_distance = hma.get(
        f"/m/raw_lookup?signal_type=pdq&signal={pdq}&include_distance=true", scope=Scope.MATCH
    ).json()
    assert with_distance == {"matches": [{"bank_content_id": content_id, "distance": "0"}]}

    near = {"photo": ("y.jpg", near_copy, "image/jpeg")}
    posted = hma.post("/m/lookup", files=near, scope=Scope.MATCH)
    assert posted.status_code == 200, posted.text
    (match,) = posted.json()["pdq"]["TEST_BANK"]
    assert match["bank_content_id"] == content_id
    assert isinstance(match["distance"], str)
    assert int(match["distance"]) <= 31
    # A look-up answers a question: nothing kept, no report queued, no action taken.
    assert hma.services.service_store.count_seen() == 0

    near_pdq = hma.post("/h/hash", files=near).json()["pdq"]
    compared = hma.post("/m/compare", json={"pdq": [pdq, near_pdq]}, scope=Scope.MATCH).json()
    assert compared["pdq"][0] is True
    assert compared["pdq"][1]["distance"] == int(match["distance"])

    content = hma.get(f"/c/bank/TEST_BANK/content/{content_id}?include_signals=true").json()
    assert content["id"] == content_id
    assert content["bank"] == {"name": "TEST_BANK", "matching_enabled_ratio": 1.0}
    assert content["signals"] == {"pdq": pdq}
    assert "note: stand-in" in content["note"]
    assert "upload-77" in content["note"]
    deleted = hma.delete(f"/c/bank/TEST_BANK/content/{content_id}", scope=Scope.LISTS_WRITE)
    assert deleted.json() == {"deleted": 1}
    assert hma.get(f"/m/lookup?signal_type=pdq&signal={pdq}").json() == {}


def test_signals_added_by_hash_and_video_md5(hma: ApiClient) -> None:
    hma.post("/c/banks", json={"name": "VIDEOS", "enabled": True})
    md5 = "0123456789abcdef0123456789abcdef"
    added = hma.post("/c/bank/VIDEOS/signal", json={"video_md5": md5.upper(), "note": "n"})
    assert added.status_code == 200, added.text
    assert added.json()["signals"] == {"video_md5": md5}
    found = hma.get(f"/m/lookup?signal_type=video_md5&signal={md5}").json()
    assert found == {"VIDEOS": [{"bank_content_id": added.json()["id"], "distance": "0"}]}
    hma.put("/c/bank/VIDEOS", json={"enabled_ratio": 0})
    assert hma.get("/c/bank/VIDEOS").json()["matching_enabled_ratio"] == 0.0
    assert hma.get(f"/m/lookup?signal_type=video_md5&signal={md5}").json() == {}
    assert hma.delete("/c/bank/VIDEOS").json() == {"message": "Done"}
    assert hma.get("/c/bank/VIDEOS").status_code == 404


def test_refusals_say_why(hma: ApiClient, photo: bytes) -> None:
    def message(response: httpx.Response, status: int) -> str:
        assert response.status_code == status, response.text
        return str(response.json()["message"])

    assert "No such SignalType 'vpdq'" in message(
        hma.get("/m/lookup?signal_type=vpdq&signal=abc"), 400
    )
    assert "kept as data" in message(hma.get("/m/lookup?signal_type=photodna&signal=x"), 400)
    assert "fetch URLs" in message(hma.get("/h/hash?url=http://example.com/x.jpg"), 400)
    assert "fetch URLs" in message(hma.get("/m/lookup?url=http://example.com/x.jpg"), 400)
    assert "invalid signal" in message(hma.get("/m/lookup?signal_type=pdq&signal=zz"), 400)
    assert "content_type" in message(
        hma.post("/h/hash", files={"audio": ("a.jpg", photo, "image/jpeg")}), 400
    )
    hma.post("/c/banks", json={"name": "B"})
    assert "0 or 1" in message(hma.put("/c/bank/B", json={"enabled_ratio": 0.5}), 400)
    assert "exactly 2" in message(hma.post("/m/compare", json={"pdq": ["a"]}), 400)


def test_keys_are_required_and_scoped(hma: ApiClient) -> None:
    assert hma.get("/c/banks", scope=None).status_code == 401
    assert hma.get("/m/lookup?signal_type=pdq&signal=0", scope=None).status_code == 401
    assert hma.get("/c/banks", scope=Scope.MATCH).status_code == 403
    key = hma.tokens[Scope.LISTS_WRITE]
    as_header = hma.get("/c/banks", scope=None, headers={"X-API-Key": key})
    assert as_header.status_code == 200


def test_loopback_mode_needs_no_key_but_refuses_other_addresses(
    tmp_path: Path, portal: BlockingPortal
) -> None:
    for client in hma_client(tmp_path, portal, "loopback"):
        assert client.get("/c/banks", scope=None).status_code == 200  # from 127.0.0.1
        remote = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=client.app, client=("203.0.113.7", 40000)),
            base_url="http://service.test",
        )
        answer = portal.call(remote.get, "/c/banks")
        assert answer.status_code == 403
        assert "loopback" in answer.json()["message"]
        portal.call(remote.aclose)
