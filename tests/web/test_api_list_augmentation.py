"""``POST /v1/lists/{name}/augment``: a list keeper publishes augmentation hashes of an original."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from safeguard.domain.service import Scope
from safeguard.services.demo.pictures import synthetic_photo
from tests.web.conftest import ApiClient


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def test_augmented_list_finds_a_cropped_copy(any_api: ApiClient) -> None:
    # A generated stand-in for a listed picture; nothing here is, or depicts, abuse material.
    original = _jpeg(synthetic_photo(11, 640, 480))
    width, height = 640, 480
    cropped = _jpeg(
        Image.open(io.BytesIO(original)).crop((0, 0, round(width * 0.8), round(height * 0.8)))
    )
    assert any_api.post("/v1/lists", json={"name": "keeper"}).status_code == 201
    entry = {"entry_id": "orig-1", "sha256": hashlib.sha256(original).hexdigest()}
    assert any_api.post("/v1/lists/keeper/entries", json={"entries": [entry]}).status_code == 200
    before = any_api.post("/v1/match", content=cropped).json()
    assert before["known"] is False

    refused = any_api.post("/v1/lists/keeper/augment", content=original, scope=Scope.MATCH)
    assert refused.status_code == 403
    done = any_api.post("/v1/lists/keeper/augment", content=original)
    assert done.status_code == 200, done.text
    outcome = done.json()
    assert outcome["originals_matched"] == 1
    assert outcome["entries_written"] >= 30
    assert outcome["skipped"] == []

    after = any_api.post("/v1/match", content=cropped).json()
    assert after["known"] is True
    entry_ids = {m["entry_id"] for m in after["matches"]}
    assert any(e.startswith("orig-1#crop-80") for e in entry_ids)


def test_the_answer_comes_at_once_and_the_worker_rematches_past_uploads(api: ApiClient) -> None:
    # A generated stand-in for a listed picture; nothing here is, or depicts, abuse material.
    original = _jpeg(synthetic_photo(13, 640, 480))
    cropped = _jpeg(Image.open(io.BytesIO(original)).crop((0, 0, 512, 384)))
    created = api.post("/v1/lists", json={"name": "keeper", "actions": ["report"]})
    assert created.status_code == 201
    entry = {"entry_id": "orig-1", "sha256": hashlib.sha256(original).hexdigest()}
    assert api.post("/v1/lists/keeper/entries", json={"entries": [entry]}).status_code == 200
    past = api.post("/v1/match", content=cropped, scope=Scope.MATCH).json()
    assert past["known"] is False  # kept for retroactive matching

    answer = api.post("/v1/lists/keeper/augment", content=original)
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert "retroactive_hits" not in outcome
    [job] = outcome["retroactive_jobs"]
    assert (job["list_name"], job["state"], job["hits"]) == ("keeper", "pending", 0)
    assert job["entries"] == outcome["entries_written"]
    jobs = api.services.list_administration.retroactive_jobs
    assert api.services.service_store.list_reports() == []  # nothing ran in the request

    [done] = jobs.run_pending()  # what the server's background worker does
    assert done.job_id == job["job_id"]
    shown = api.get(f"/v1/lists/keeper/retroactive/{job['job_id']}").json()
    assert (shown["state"], shown["hits"]) == ("done", 1)
    [report] = api.services.service_store.list_reports()
    assert report.upload_id == past["upload_id"]
    assert report.retroactive


def test_an_original_on_no_entry_is_skipped_with_its_reason(any_api: ApiClient) -> None:
    assert any_api.post("/v1/lists", json={"name": "keeper"}).status_code == 201
    stranger = _jpeg(synthetic_photo(12, 320, 240))
    outcome = any_api.post("/v1/lists/keeper/augment", content=stranger).json()
    assert outcome["originals_matched"] == 0
    assert outcome["entries_written"] == 0
    assert outcome["skipped"] == [
        {"name": "body", "reason": "no entry of list 'keeper' has its SHA-256, SHA-1 or MD5"}
    ]
    not_picture = any_api.post("/v1/lists/keeper/augment", content=b"plain text").json()
    assert "not a picture" in not_picture["skipped"][0]["reason"]
    assert any_api.post("/v1/lists/nope/augment", content=stranger).status_code == 404
