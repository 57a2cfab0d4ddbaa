"""The review grid over HTTP: access lists, blurred bytes, reveals, CSRF, grading, settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from safeguard.domain.people import Role
from tests.unit.services.review.review_exhibit import ReviewCase, scanned_review_case
from tests.unit.services.review.test_review_flow import high_frequency_energy
from tests.web.conftest import ApiClient
from tests.web.signed_in import signed_in


@pytest.fixture
def review(api: ApiClient, tmp_path: Path) -> ReviewCase:
    return scanned_review_case(api.services, tmp_path / "exhibit")


def _base(review: ReviewCase) -> str:
    return f"/ui/review/cases/{review.case.case_id}/exhibits/{review.exhibit.exhibit_id}"


def _numbers(api: ApiClient, review: ReviewCase) -> dict[str, int]:
    items = api.services.review_store.items(review.exhibit.exhibit_id)
    return {Path(i.path).name: i.item_no for i in items}


def test_no_access_without_the_case_on_the_users_list(api: ApiClient, review: ReviewCase) -> None:
    base = _base(review)
    outsider = signed_in(api, "outsider", Role.EXAMINER)
    analyst = signed_in(api, "nat", Role.NATIONAL_ANALYST)
    case_pages = [
        base,
        f"{base}/items/1/thumb",
        f"{base}/items/1",
        f"{base}/items/1/revealed?ticket=x",
        f"/ui/review/cases/{review.case.case_id}/publish",
    ]
    for url in case_pages:
        answer = outsider.get(url)
        assert answer.status_code == 404, url
        assert b"\xff\xd8" not in answer.content[:4]
        assert "alone" not in answer.text
        assert analyst.get(url).status_code == 403, url
        assert api.get(url, scope=None).status_code == 303, url
    for url in (f"{base}/items/1/reveal", f"{base}/grades"):
        assert outsider.post(url).status_code == 404
    assert "OP-R" not in outsider.get("/ui/review").text
    # Another case's exhibit through this case's address: nothing either.
    other = api.services.case_service.new_case("OP-OTHER", "exa")
    api.services.case_access.grant(other.case_id, "exa", actor="test")
    exa = signed_in(api, "exa")
    crossed = f"/ui/review/cases/{other.case_id}/exhibits/{review.exhibit.exhibit_id}"
    assert exa.get(crossed).status_code == 404
    assert exa.get(f"{crossed}/items/1/thumb").status_code == 404


def test_thumbnail_bytes_are_never_unblurred_without_a_reveal(
    api: ApiClient, review: ReviewCase, tmp_path: Path
) -> None:
    base = _base(review)
    exa = signed_in(api, "exa")
    numbers = _numbers(api, review)
    for name, number in numbers.items():
        answer = exa.get(f"{base}/items/{number}/thumb")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == "image/jpeg"
        assert answer.headers["cache-control"] == "no-store"
        if name.endswith(("jpg", "png")):
            original = (tmp_path / "exhibit" / name).read_bytes()
            with Image.open(io.BytesIO(answer.content)) as image:
                size = image.size
            ratio = high_frequency_energy(answer.content) / high_frequency_energy(original, size)
            assert ratio < 0.05, (name, ratio)
    # The weakest blur a user can store is still a blur.
    assert (
        exa.post("/ui/review/preferences", {"blur": "0", "break_minutes": "30"}).status_code == 303
    )
    settings = exa.get("/ui/review/preferences").text
    assert 'value="4"' in settings
    weakest = exa.get(f"{base}/items/{numbers['c_alone.jpg']}/thumb").content
    original = (tmp_path / "exhibit" / "c_alone.jpg").read_bytes()
    with Image.open(io.BytesIO(weakest)) as image:
        assert image.mode == "RGB"  # greyscale turned off
        size = image.size
    assert high_frequency_energy(weakest) < 0.1 * high_frequency_energy(original, size)
    # Without a reveal, the unblurred address answers nothing.
    assert exa.get(f"{base}/items/{numbers['c_alone.jpg']}/revealed").status_code == 404


def test_reveal_needs_csrf_is_audited_and_single_use(api: ApiClient, review: ReviewCase) -> None:
    base = _base(review)
    exa = signed_in(api, "exa")
    number = _numbers(api, review)["c_alone.jpg"]
    forged = api.post(f"{base}/items/{number}/reveal", scope=None, headers=exa.cookies)
    assert forged.status_code == 403
    answer = api.post(
        f"{base}/items/{number}/reveal",
        scope=None,
        headers={**exa.cookies, "X-CSRF-Token": exa.csrf},
    )
    url = answer.json()["url"]
    exb = signed_in(api, "exb")
    assert exb.get(url).status_code == 404  # another examiner cannot use the ticket
    shown = exa.get(url)
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert exa.get(url).status_code == 404
    audit = [
        e for e in api.services.case_service.audit_log(review.case) if e.action == "review.revealed"
    ]
    assert [(e.actor, e.detail["item"]) for e in audit] == [("user:exa", str(number))]


def test_grading_over_http_with_groups_and_csrf(api: ApiClient, review: ReviewCase) -> None:
    base = _base(review)
    exa = signed_in(api, "exa")
    numbers = _numbers(api, review)
    group = api.services.review_store.item(
        review.exhibit.exhibit_id, numbers["a_small.jpg"]
    ).group_no
    headers = {**exa.cookies, "X-CSRF-Token": exa.csrf}
    no_csrf = api.post(
        f"{base}/grades", scope=None, headers=exa.cookies, json={"items": [1], "key": "1"}
    )
    assert no_csrf.status_code == 403
    graded = api.post(
        f"{base}/grades",
        scope=None,
        headers=headers,
        json={"items": [], "groups": [group], "key": "1"},
    ).json()["graded"]
    assert len(graded) == 4
    bad_key = api.post(
        f"{base}/grades", scope=None, headers=headers, json={"items": [1], "key": "7"}
    )
    assert bad_key.status_code == 422
    page = exa.get(base)
    assert page.text.count("Category A (Sentencing Council)") >= 4
    assert "group" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert '<script src="/ui/review/static/review.js">' in page.text
    assert (
        exa.get("/ui/review/static/review.js").headers["content-type"].startswith("text/javascript")
    )
    detail = exa.get(f"{base}/items/{numbers['a_small.jpg']}").json()
    assert len(detail["members"]) == 4
    assert detail["history"][0]["examiner"] == "exa"
    paged = exa.get(base, params={"per_page": 10, "page": 99})
    assert "Page 1 of 1" in paged.text
