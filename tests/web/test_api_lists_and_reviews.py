"""List management, review of reports, quarantine, audit, retroactive matching."""

from __future__ import annotations

from safeguard.domain.service import Scope
from tests.web.conftest import ApiClient

PDQ = "c3" * 32


def test_list_lifecycle(any_api: ApiClient) -> None:
    body = {"name": "iwf", "source": "IWF", "version": "2026-11", "pdq_threshold": 24}
    created = any_api.post("/v1/lists", json={**body, "actions": ["report"]})
    assert created.status_code == 201
    assert created.json()["hash_list"]["pdq_threshold"] == 24
    assert any_api.post("/v1/lists", json=body).status_code == 400  # exists already
    added = any_api.post(
        "/v1/lists/iwf/entries",
        json={"entries": [{"entry_id": "a", "md5": "A" * 32}, {"entry_id": "b", "pdq": PDQ}]},
    )
    assert added.json()["written"] == 2
    assert added.json()["hash_list"]["entry_count"] == 2
    bad_entry = any_api.post(
        "/v1/lists/iwf/entries", json={"entries": [{"entry_id": "c", "md5": "xyz"}]}
    )
    assert bad_entry.status_code == 422
    assert any_api.post("/v1/match", json={"md5": "a" * 32}).json()["known"] is True
    disabled = any_api.patch("/v1/lists/iwf", json={"enabled": False}).json()["hash_list"]
    assert disabled["enabled"] is False
    assert any_api.post("/v1/match", json={"md5": "a" * 32}).json()["known"] is False
    enabled = any_api.patch(
        "/v1/lists/iwf", json={"enabled": True, "pdq_threshold": 10, "actions": ["block"]}
    ).json()["hash_list"]
    assert enabled["actions"] == ["block"]
    assert enabled["pdq_threshold"] == 10
    removed = any_api.request(
        "DELETE", "/v1/lists/iwf/entries", json={"entry_ids": ["a", "missing"]}
    )
    assert removed.json()["written"] == 1
    assert any_api.delete("/v1/lists/iwf/entries/b").json()["hash_list"]["entry_count"] == 0
    assert [hl["name"] for hl in any_api.get("/v1/lists").json()] == ["iwf"]
    assert any_api.get("/v1/lists/nope").status_code == 404
    assert any_api.patch("/v1/lists/iwf", json={"pdq_threshold": 300}).status_code == 422
    audit = [e["action"] for e in any_api.get("/v1/audit").json()]
    assert audit[:5] == [
        "list.entries_removed",
        "list.entries_removed",
        "list.updated",
        "list.updated",
        "list.entries_added",
    ]


def test_import_a_list_file(api: ApiClient) -> None:
    api.post("/v1/lists", json={"name": "md5s", "actions": ["block"]})
    text = f"{'1' * 32}  first.jpg\n{'2' * 32}  second.jpg\n"
    imported = api.post("/v1/lists/md5s/import", content=text.encode(), params={"format": "md5sum"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["hash_list"]["entry_count"] == 2
    counts = imported.json()["import_counts"]
    assert (counts["read"], counts["stored"], counts["skipped"]) == (2, 2, 0)
    assert api.post("/v1/match", json={"md5": "2" * 32}).json()["block"] is True
    broken = api.post("/v1/lists/md5s/import", content=b"not a list", params={"format": "md5sum"})
    assert broken.status_code == 422


def test_retroactive_matching_through_the_api(any_api: ApiClient) -> None:
    any_api.post("/v1/lists", json={"name": "late", "actions": ["report", "quarantine"]})
    first = any_api.post("/v1/match", json={"pdq": PDQ, "user_id": "u-1"}).json()
    assert first["known"] is False
    change = any_api.post(
        "/v1/lists/late/entries", json={"entries": [{"entry_id": "x", "pdq": PDQ}]}
    ).json()
    [hit] = change["retroactive"]
    assert hit["upload_id"] == first["upload_id"]
    assert hit["actions"] == ["quarantine", "report"]
    report = any_api.get(f"/v1/reports/{hit['report_id']}", scope=Scope.REPORTS_REVIEW).json()
    assert report["retroactive"] is True
    assert report["reported_user"] == "u-1"
    [item] = any_api.get("/v1/quarantine", scope=Scope.REPORTS_REVIEW).json()
    assert item["retroactive"] is True
    assert item["matches"][0]["distance"] == 0


def test_reports_are_confirmed_or_dismissed_by_people(any_api: ApiClient) -> None:
    any_api.post("/v1/lists", json={"name": "r", "actions": ["report"]})
    any_api.post("/v1/lists/r/entries", json={"entries": [{"entry_id": "1", "sha1": "3" * 40}]})
    ids = [any_api.post("/v1/match", json={"sha1": "3" * 40}).json()["report_id"] for _ in range(2)]
    pending = any_api.get("/v1/reports", params={"status": "pending"}, scope=Scope.REPORTS_REVIEW)
    assert [r["report_id"] for r in pending.json()] == ids
    confirmed = any_api.post(
        f"/v1/reports/{ids[0]}/confirm", json={"note": "checked"}, scope=Scope.REPORTS_REVIEW
    ).json()
    assert confirmed["status"] == "confirmed"
    assert confirmed["decided_by"].startswith("key:")
    dismissed = any_api.post(
        f"/v1/reports/{ids[1]}/dismiss", json={}, scope=Scope.REPORTS_REVIEW
    ).json()
    assert dismissed["status"] == "dismissed"
    again = any_api.post(f"/v1/reports/{ids[1]}/confirm", json={}, scope=Scope.REPORTS_REVIEW)
    assert again.status_code == 409
    assert any_api.get("/v1/reports/999", scope=Scope.REPORTS_REVIEW).status_code == 404
    audit = any_api.get("/v1/audit").json()
    assert [e["action"] for e in audit[:2]] == ["report.dismissed", "report.confirmed"]
    assert audit[1]["detail"] == {"report_id": str(ids[0])}
