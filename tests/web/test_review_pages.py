"""The server-rendered review queue: sign-in with an account, no images, decisions audited."""

from __future__ import annotations

from safeguard.domain.people import Role
from safeguard.domain.service import Scope
from tests.web.conftest import ApiClient
from tests.web.signed_in import signed_in


def _queue_a_report(api: ApiClient) -> int:
    api.post("/v1/lists", json={"name": "r", "actions": ["report"], "version": "7"})
    entry = {"entry_id": "e<script>", "md5": "8" * 32, "source_record_id": "src-42"}
    api.post("/v1/lists/r/entries", json={"entries": [entry]})
    answer = api.post("/v1/match", json={"md5": "8" * 32, "user_id": "uploader-1"}).json()
    return int(answer["report_id"])


def test_review_queue_needs_a_reviewer(api: ApiClient) -> None:
    assert api.get("/ui/reports", scope=None).status_code == 303
    # An API key is no longer a sign-in for pages.
    assert api.get("/ui/reports", scope=Scope.REPORTS_REVIEW).status_code == 303
    examiner = signed_in(api, "exa", Role.EXAMINER)
    assert examiner.get("/ui/reports").status_code == 403


def test_review_queue_shows_hashes_not_images_and_records_decisions(api: ApiClient) -> None:
    report_id = _queue_a_report(api)
    reviewer = signed_in(api, "rev", Role.PLATFORM_REVIEWER)
    page = reviewer.get("/ui/reports")
    assert page.status_code == 200
    html = page.text
    assert "8" * 32 in html
    assert "src-42" in html
    assert "uploader-1" in html
    assert "intelligence, not proof" in html
    assert "<img" not in html.lower()
    assert "e<script>" not in html  # escaped
    assert page.headers["cache-control"] == "no-store"
    forged = reviewer.post(f"/ui/reports/{report_id}/confirm", {"note": "x"}, csrf=False)
    assert forged.status_code == 403
    decided = reviewer.post(f"/ui/reports/{report_id}/confirm", {"note": "seen"})
    assert decided.status_code == 303
    report = api.get(f"/v1/reports/{report_id}", scope=Scope.REPORTS_REVIEW).json()
    assert report["status"] == "confirmed"
    assert report["decision_note"] == "seen"
    assert report["decided_by"] == "user:rev"
    assert api.get("/v1/audit").json()[0]["action"] == "report.confirmed"
    confirmed = reviewer.get("/ui/reports", params={"status": "confirmed"})
    assert "confirmed by user:rev" in confirmed.text
