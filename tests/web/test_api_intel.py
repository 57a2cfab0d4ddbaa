"""``/v1/intel``: scopes, ingest with refusals, ranking, records, overrides, merge and split."""

from __future__ import annotations

from safeguard.domain.service import Scope
from tests.unit.intel_intake.samples import BAD_TIME_REPORT, GOOD_REPORT, batch
from tests.web.conftest import ApiClient

XML = {"Content-Type": "application/xml"}


def test_intel_routes_need_their_scopes(api: ApiClient) -> None:
    assert api.get("/v1/intel/subjects", scope=None).status_code == 401
    assert api.get("/v1/intel/subjects", scope=Scope.MATCH).status_code == 403
    assert api.get("/v1/intel/subjects", scope=Scope.INTEL_READ).status_code == 200
    body = batch(GOOD_REPORT).encode()
    refused = api.post("/v1/intel/referrals", content=body, headers=XML, scope=Scope.INTEL_READ)
    assert refused.status_code == 403
    taken = api.post("/v1/intel/referrals", content=body, headers=XML, scope=Scope.INTEL_WRITE)
    assert taken.status_code == 200, taken.text


def test_ingest_ranks_explains_overrides_and_is_idempotent(any_api: ApiClient) -> None:
    body = batch(BAD_TIME_REPORT, GOOD_REPORT).encode()
    first = any_api.post(
        "/v1/intel/referrals",
        content=body,
        headers=XML,
        params={"grading": "1BP"},
        scope=Scope.INTEL_WRITE,
    ).json()
    assert first["added"] == 1
    assert first["refused"] == [
        {
            "source": "request body",
            "element": "report[1]/incidentSummary/incidentDateTime",
            "reason": "time '2026-10-02T08:15:00' has no timezone",
        }
    ]
    again = any_api.post(
        "/v1/intel/referrals",
        content=body,
        headers=XML,
        params={"grading": "1BP"},
        scope=Scope.INTEL_WRITE,
    ).json()
    assert (again["added"], again["unchanged"]) == (0, 1)
    [row] = any_api.get("/v1/intel/subjects", scope=Scope.INTEL_READ).json()
    assert row["label"] == "sample.person@example.com"
    subject_id = row["id"]
    record = any_api.get(f"/v1/intel/subjects/{subject_id}", scope=Scope.INTEL_READ).json()
    [referral] = record["referrals"]
    assert referral["grading"]["code"] == "1BP"
    assert referral["files"][0]["hashes"] == {"md5": "d41d8cd98f00b204e9800998ecf8427e"}
    factors = {f["factor"]: f for f in record["priority"]["assessment"]["factors"]}
    assert factors["escalation"]["points"] == 10
    assert factors["contact_offending"]["tool"].startswith("KIRAT step 3")
    facts = any_api.patch(
        f"/v1/intel/subjects/{subject_id}/facts",
        json={"occupation": "teacher", "role_with_access_to_children": True},
        scope=Scope.INTEL_WRITE,
    ).json()
    assert facts["band"] == "Very High"
    overridden = any_api.request(
        "PUT",
        f"/v1/intel/subjects/{subject_id}/override",
        json={"band": "High", "reason": "role ended last year"},
        scope=Scope.INTEL_WRITE,
    ).json()
    assert (overridden["band"], overridden["computed_band"]) == ("High", "Very High")
    audit = any_api.get(f"/v1/intel/subjects/{subject_id}", scope=Scope.INTEL_READ).json()["audit"]
    assert audit[-1]["action"] == "band.overridden"
    assert audit[-1]["actor"].startswith("key:")
    bad = any_api.request(
        "PUT",
        f"/v1/intel/subjects/{subject_id}/override",
        json={"band": "Severe", "reason": "x"},
        scope=Scope.INTEL_WRITE,
    )
    assert bad.status_code == 422


def test_merge_and_split_through_the_api(api: ApiClient) -> None:
    other = (
        GOOD_REPORT.replace("CT-1001", "CT-1077")
        .replace("Sample.Person", "other")
        .replace("u-7781", "u-9")
        .replace("@Sample_P", "someone_else")
    )
    api.post(
        "/v1/intel/referrals",
        content=batch(GOOD_REPORT, other).encode(),
        headers=XML,
        scope=Scope.INTEL_WRITE,
    )
    a, b = sorted(row["id"] for row in api.get("/v1/intel/subjects", scope=Scope.INTEL_READ).json())
    merged = api.post(
        "/v1/intel/merges",
        json={"survivor": a, "absorbed": b, "reason": "same"},
        scope=Scope.INTEL_WRITE,
    ).json()
    assert [row["id"] for row in api.get("/v1/intel/subjects", scope=Scope.INTEL_READ).json()] == [
        a
    ]
    split = api.post(
        f"/v1/intel/merges/{merged['id']}/split",
        json={"reason": "not the same"},
        scope=Scope.INTEL_WRITE,
    ).json()
    assert split["split_reason"] == "not the same"
    assert len(api.get("/v1/intel/subjects", scope=Scope.INTEL_READ).json()) == 2
    again = api.post(
        f"/v1/intel/merges/{merged['id']}/split", json={"reason": "x"}, scope=Scope.INTEL_WRITE
    )
    assert again.status_code == 409
    network = api.get(f"/v1/intel/subjects/{a}/network", scope=Scope.INTEL_READ).json()
    assert b in network["members"]  # same phone, device and IP in both reports
    assert {link["kind"] for link in network["links"]} == {"identifier", "image"}
    [listed] = api.get("/v1/intel/networks", scope=Scope.INTEL_READ).json()
    assert listed["members"] == network["members"]


def test_a_confirmed_platform_report_becomes_a_referral(api: ApiClient) -> None:
    api.post("/v1/lists", json={"name": "r", "actions": ["report"]})
    api.post("/v1/lists/r/entries", json={"entries": [{"entry_id": "1", "sha1": "3" * 40}]})
    report_id = api.post(
        "/v1/match",
        json={
            "sha1": "3" * 40,
            "user_id": "u-42",
            "screen_name": "Night_Owl",
            "ip_address": "192.0.2.44",
        },
    ).json()["report_id"]
    assert api.get("/v1/intel/subjects", scope=Scope.INTEL_READ).json() == []
    api.post(
        f"/v1/reports/{report_id}/confirm", json={"note": "checked"}, scope=Scope.REPORTS_REVIEW
    )
    [row] = api.get("/v1/intel/subjects", scope=Scope.INTEL_READ).json()
    record = api.get(f"/v1/intel/subjects/{row['id']}", scope=Scope.INTEL_READ).json()
    [referral] = record["referrals"]
    assert referral["source"] == "platform-report"
    assert referral["grading"]["code"] == "2BP"
    assert {i["key"] for i in record["identifiers"]} == {
        "platform_user_id:platform:u-42",
        "screen_name:platform:night_owl",
        "ip:192.0.2.44",
    }
    assert referral["files"][0]["matches"][0]["list"] == "r"


def test_an_analyst_opens_a_subject(api: ApiClient) -> None:
    made = api.post(
        "/v1/intel/subjects",
        json={"label": "Suspect K", "reason": "named by a victim"},
        scope=Scope.INTEL_WRITE,
    )
    assert made.status_code == 201
    record = api.get(f"/v1/intel/subjects/{made.json()['id']}", scope=Scope.INTEL_READ).json()
    assert record["subject"]["origin"] == "analyst"
    assert record["audit"][0]["detail"] == {"reason": "named by a victim"}
    assert record["priority"]["band"] == "Low"
