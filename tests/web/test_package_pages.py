"""Package pages and API in-process: build, four eyes, force scoping, outcomes, dashboard."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from safeguard.domain.package_access import viewer_of
from safeguard.domain.people import Role
from tests.package_support import seed_subject
from tests.web.conftest import ApiClient
from tests.web.signed_in import signed_in

KENT = "E23000032"
ESSEX = "E23000028"


def _seed(api: ApiClient) -> str:
    return seed_subject(api.services)


def test_loop_through_the_pages_with_force_scoping(any_api: ApiClient) -> None:
    subject = _seed(any_api)
    ana = signed_in(any_api, "ana", Role.NATIONAL_ANALYST)
    sue = signed_in(any_api, "sue", Role.NATIONAL_SUPERVISOR)
    kim = signed_in(any_api, "kim", Role.FORCE_CONTACT, force=KENT)
    eve = signed_in(any_api, "eve", Role.FORCE_CONTACT, force=ESSEX)

    built = ana.post("/ui/packages", {"subject": subject})
    assert built.status_code == 303
    page = built.headers["location"]
    assert page == "/ui/packages/PKG-000001"
    assert ana.post(f"{page}/approve").status_code == 403  # the author cannot approve
    assert sue.post(f"{page}/approve", csrf=False).status_code == 403  # no CSRF token
    assert kim.get(page).status_code == 404  # drafts stay national
    assert sue.post(f"{page}/approve").status_code == 303
    assert sue.post(f"{page}/send").status_code == 303

    listing = kim.get("/ui/packages")
    assert "PKG-000001" in listing.text
    assert "PKG-000001" not in eve.get("/ui/packages").text
    for url in (page, f"{page}/document.html", f"{page}/document.json", "/v1/packages/PKG-000001"):
        assert eve.get(url).status_code == 404, url
    assert eve.post(f"{page}/acknowledge").status_code == 404
    assert eve.get("/v1/packages").json() == []
    assert [p["reference"] for p in kim.get("/v1/packages").json()] == ["PKG-000001"]
    assert any_api.get("/v1/packages", scope=None).status_code == 401

    assert kim.post(f"{page}/acknowledge").status_code == 303
    report = {
        "premises_searched": "1",
        "arrests": "1",
        "children_safeguarded": "2",
        "children_at_serious_risk": "1",
        "safeguarding_basis": "in the care of the suspect",
        "registered_sex_offender": "no",
        "devices": "laptop\nphone",
    }
    # The form offers the days from the package's creation (today) to today, with a day
    # either side of UTC's: the officer types a local date.
    day = datetime.now(UTC).date()
    today = day.isoformat()
    first, last = day - timedelta(days=1), day + timedelta(days=1)
    assert f'min="{first}" max="{last}" value="{today}"' in kim.get(page).text
    recorded = kim.post(f"{page}/outcome", {**report, "occurred_on": today})
    assert recorded.status_code == 303
    document = kim.get(f"{page}/document.json").json()
    assert document["content"]["destination"] == "kent"
    exported = kim.get("/ui/packages/dashboard.csv")
    rows = {r["scope"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert rows["national"]["arrests"] == "1"
    assert rows["national"]["children_safeguarded"] == "2"
    assert rows["national"]["devices_seized"] == "2"
    essex_rows = list(csv.DictReader(io.StringIO(eve.get("/ui/packages/dashboard.csv").text)))
    assert [r["scope"] for r in essex_rows] == ["national"]
    assert essex_rows[0]["arrests"] == "0"
    board = sue.get("/ui/packages/dashboard")
    assert 'data-national="arrests">1<' in board.text
    assert "<svg" in board.text

    events = any_api.services.package_store.events()
    denied = [e for e in events if e.action == "denied"]
    assert {e.actor for e in denied} >= {"user:eve", "user:ana"}
    viewed = [e for e in events if e.action == "viewed" and e.actor == "user:kim"]
    assert {e.detail.get("format") for e in viewed} >= {"json"}


def test_an_impossible_date_of_action_is_refused_on_the_page(any_api: ApiClient) -> None:
    subject = _seed(any_api)
    ana = signed_in(any_api, "ana", Role.NATIONAL_ANALYST)
    sue = signed_in(any_api, "sue", Role.NATIONAL_SUPERVISOR)
    kim = signed_in(any_api, "kim", Role.FORCE_CONTACT, force=KENT)
    page = ana.post("/ui/packages", {"subject": subject}).headers["location"]
    assert sue.post(f"{page}/approve").status_code == 303
    assert sue.post(f"{page}/send").status_code == 303
    assert kim.post(f"{page}/acknowledge").status_code == 303
    today = datetime.now(UTC).date()
    earlier, later = today - timedelta(days=30), today + timedelta(days=2)
    for when, says in (
        (earlier, f"date of action {earlier} is before PKG-000001 was created on {today}"),
        (later, f"date of action {later} is in the future (today is {today} UTC)"),
        ("4 March", "date of action &#39;4 March&#39; is not a date (YYYY-MM-DD)"),
    ):
        refused = kim.post(f"{page}/outcome", {"arrests": "1", "occurred_on": str(when)})
        assert refused.status_code == 422, when
        assert says in refused.text
    assert "None recorded." in kim.get(page).text
    # A blank date means today.
    assert kim.post(f"{page}/outcome", {"arrests": "2", "occurred_on": ""}).status_code == 303
    (stored,) = any_api.services.package_outcomes.history(
        viewer_of(any_api.services.users.find("kim")), "PKG-000001"
    )
    assert (stored.occurred_on, stored.arrests) == (today, 2)
