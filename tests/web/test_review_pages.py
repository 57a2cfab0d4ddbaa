"""The server-rendered review queue: sign-in, no images, decisions audited."""

from __future__ import annotations

from safeguard.domain.service import Scope
from tests.web.conftest import ApiClient


def _queue_a_report(api: ApiClient) -> int:
    api.post("/v1/lists", json={"name": "r", "actions": ["report"], "version": "7"})
    entry = {"entry_id": "e<script>", "md5": "8" * 32, "source_record_id": "src-42"}
    api.post("/v1/lists/r/entries", json={"entries": [entry]})
    answer = api.post("/v1/match", json={"md5": "8" * 32, "user_id": "uploader-1"}).json()
    return int(answer["report_id"])


def test_review_queue_needs_a_reviewer_key(api: ApiClient) -> None:
    assert api.get("/ui/reports", scope=None).status_code == 303
    assert api.get("/ui/login", scope=None).status_code == 200
    refused = api.post("/ui/login", scope=None, data={"token": api.tokens[Scope.MATCH]})
    assert refused.status_code == 403
    assert "cannot review" in refused.text


def test_review_queue_shows_hashes_not_images_and_records_decisions(api: ApiClient) -> None:
    report_id = _queue_a_report(api)
    login = api.post("/ui/login", scope=None, data={"token": api.tokens[Scope.REPORTS_REVIEW]})
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    session = {"Cookie": cookie.split(";")[0]}
    page = api.get("/ui/reports", scope=None, headers=session)
    assert page.status_code == 200
    html = page.text
    assert "8" * 32 in html
    assert "src-42" in html
    assert "uploader-1" in html
    assert "intelligence, not proof" in html
    assert "<img" not in html.lower()
    assert "e<script>" not in html  # escaped
    decided = api.post(
        f"/ui/reports/{report_id}/confirm", scope=None, headers=session, data={"note": "seen"}
    )
    assert decided.status_code == 303
    report = api.get(f"/v1/reports/{report_id}", scope=Scope.REPORTS_REVIEW).json()
    assert report["status"] == "confirmed"
    assert report["decision_note"] == "seen"
    assert api.get("/v1/audit").json()[0]["action"] == "report.confirmed"
    confirmed = api.get("/ui/reports", scope=None, headers=session, params={"status": "confirmed"})
    assert "confirmed by key:" in confirmed.text
