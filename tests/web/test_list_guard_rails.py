"""Issue 12 item 1 and 4: list actions and PDQ thresholds are checked where they are set,
and configuration stored before the checks existed never turns a match into an error."""

from __future__ import annotations

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from tests.web.conftest import ApiClient


def test_unknown_actions_are_refused_where_they_are_set(api: ApiClient) -> None:
    refused = api.post("/v1/lists", json={"name": "typo", "actions": ["blok"]})
    assert refused.status_code == 422
    api.post("/v1/lists", json={"name": "ok"})
    assert api.patch("/v1/lists/ok", json={"actions": ["blok"]}).status_code == 422
    assert [hl["name"] for hl in api.get("/v1/lists").json()] == ["ok"]


def test_a_stored_unknown_action_never_turns_a_match_into_an_error(api: ApiClient) -> None:
    # As an older version's `lists import --action blok` left it in the store.
    store = api.services.hash_list_store
    store.import_list(
        HashList(name="old", kind=ListKind.KNOWN_BAD, action="blok,block"),
        [HashEntry("e1", {HashAlgorithm.MD5: "a" * 32})],
    )
    listed = api.get("/v1/lists")
    assert listed.status_code == 200, listed.text
    [record] = listed.json()
    assert record["actions"] == ["block"]
    assert record["unknown_actions"] == ["blok"]
    answer = api.post("/v1/match", json={"md5": "a" * 32})
    assert answer.status_code == 200, answer.text
    assert answer.json()["known"] is True
    assert answer.json()["block"] is True


def test_thresholds_that_make_matching_meaningless_are_refused(api: ApiClient) -> None:
    assert api.post("/v1/lists", json={"name": "wide", "pdq_threshold": 256}).status_code == 422
    api.post("/v1/lists", json={"name": "l"})
    assert api.patch("/v1/lists/l", json={"pdq_threshold": 81}).status_code == 422
    risky = api.patch("/v1/lists/l", json={"pdq_threshold": 70})
    assert risky.status_code == 200
    assert "above 64" in risky.json()["warnings"][0]
    fine = api.patch("/v1/lists/l", json={"pdq_threshold": 40})
    assert fine.json()["warnings"] == []


def test_a_stored_huge_threshold_is_capped_when_matching(api: ApiClient) -> None:
    store = api.services.hash_list_store
    store.import_list(
        HashList(name="legacy", kind=ListKind.KNOWN_BAD, pdq_threshold=250),
        [HashEntry("p", {HashAlgorithm.PDQ: "0" * 64})],
    )
    far = "f" * 64  # 256 bits away from the entry and its rotations' worst case
    answer = api.post("/v1/match", json={"pdq": far})
    assert answer.status_code == 200
    assert answer.json()["known"] is False
