"""Retroactive jobs over HTTP: status under the list, held jobs resumed or cancelled by an
admin (audited), and the server's worker running what a request left."""

from __future__ import annotations

import threading

from safeguard.domain.service import Scope
from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
from safeguard.storage.sql.retroactive_jobs import SqlRetroactiveJobStore
from tests.web.conftest import ApiClient

PDQ = "c3" * 32


def near(bits: int) -> str:
    value = int(PDQ, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def small_jobs(api: ApiClient, **options: int | float) -> RetroactiveJobs:
    """The app's job runner with a small limit or batch standing in for 1,000 or 10,000."""
    services = api.services
    assert "list_administration" not in services.__dict__  # not built yet: it takes these
    jobs = RetroactiveJobs(
        SqlRetroactiveJobStore(services.engine),
        services.service_store,
        services.hash_list_store,
        services.service_actions,
        **options,  # type: ignore[arg-type]
    )
    services.__dict__["retroactive_jobs"] = jobs  # a cached property, set before first use
    return jobs


def test_a_change_reports_its_job_and_the_list_shows_it(any_api: ApiClient) -> None:
    any_api.post("/v1/lists", json={"name": "late", "actions": ["report"]})
    seen = any_api.post("/v1/match", json={"pdq": PDQ}).json()
    change = any_api.post(
        "/v1/lists/late/entries", json={"entries": [{"entry_id": "x", "pdq": PDQ}]}
    ).json()
    job = change["retroactive_job"]
    assert job["state"] == "done"
    assert (job["entries"], job["hits"], job["hit_limit"]) == (1, 1, 1000)
    assert job["cursor"] >= seen["upload_id"]
    listed = any_api.get("/v1/lists/late/retroactive", scope=Scope.LISTS_WRITE)
    assert listed.status_code == 200
    assert [j["job_id"] for j in listed.json()] == [job["job_id"]]
    one = any_api.get(f"/v1/lists/late/retroactive/{job['job_id']}", scope=Scope.LISTS_WRITE)
    assert one.json() == listed.json()[0]
    assert any_api.get(f"/v1/lists/other/retroactive/{job['job_id']}").status_code == 404
    assert any_api.get("/v1/lists/late/retroactive", scope=Scope.MATCH).status_code == 403


def test_a_held_job_is_resumed_or_cancelled_by_an_admin(api: ApiClient) -> None:
    jobs = small_jobs(api, max_hits=2)
    api.post("/v1/lists", json={"name": "wide", "actions": ["report"]})
    for bits in range(1, 6):
        api.post("/v1/match", json={"pdq": near(bits)})
    change = api.post(
        "/v1/lists/wide/entries", json={"entries": [{"entry_id": "w", "pdq": PDQ}]}
    ).json()
    job = change["retroactive_job"]
    assert job["state"] == "held"
    assert "mistaken entry or threshold" in job["note"]
    assert len(change["retroactive"]) == 2
    path = f"/v1/lists/wide/retroactive/{job['job_id']}"
    assert api.post(f"{path}/resume", scope=Scope.LISTS_WRITE).status_code == 403
    resumed = api.post(f"{path}/resume", json={"hit_limit": 4})
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["state"] == "pending"
    assert api.post(f"{path}/resume").status_code == 409  # not held now
    [ran] = jobs.run_pending()  # as the server's worker does
    assert (ran.state.value, ran.hits) == ("held", 4)
    assert api.post(f"{path}/cancel", scope=Scope.LISTS_WRITE).status_code == 403
    cancelled = api.post(f"{path}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert api.post(f"{path}/cancel").status_code == 409
    audit = [e for e in api.get("/v1/audit").json() if "retroactive" in e["action"]]
    assert [e["action"] for e in audit] == [
        "list.retroactive_cancelled",
        "list.retroactive_resumed",
    ]
    assert audit[1]["detail"]["hit_limit"] == "4"
    assert len(api.get("/v1/reports", scope=Scope.REPORTS_REVIEW).json()) == 4


def test_a_request_does_one_batch_and_the_server_worker_the_rest(api: ApiClient) -> None:
    jobs = small_jobs(api, batch_size=2, poll_interval=0.05)
    api.post("/v1/lists", json={"name": "big", "actions": ["report"]})
    for bits in range(1, 6):
        api.post("/v1/match", json={"pdq": near(bits)})
    change = api.post(
        "/v1/lists/big/entries", json={"entries": [{"entry_id": "b", "pdq": PDQ}]}
    ).json()
    job = change["retroactive_job"]
    assert job["state"] == "pending"
    assert len(change["retroactive"]) == 2
    jobs.start_worker()
    try:
        finished = threading.Event()
        for _ in range(500):
            state = api.get(f"/v1/lists/big/retroactive/{job['job_id']}").json()
            if state["state"] == "done":
                finished.set()
                break
            finished.wait(0.02)
    finally:
        jobs.stop_worker()
    assert finished.is_set()
    assert state["hits"] == 5
    assert len(api.get("/v1/reports", scope=Scope.REPORTS_REVIEW).json()) == 5
