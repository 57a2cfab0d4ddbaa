"""The whole package loop in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page

from safeguard.domain.people import Role
from tests.browser_support import TEST_PASSWORD, LiveApp, sign_in
from tests.package_support import seed_subject

pytestmark = pytest.mark.slow


def _person(browser: Browser, app: LiveApp, name: str) -> Page:
    page = browser.new_context().new_page()
    sign_in(page, app, name)
    return page


def _click(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_analyst_builds_supervisor_approves_force_acknowledges_and_reports(
    browser: Browser, live_app: LiveApp
) -> None:
    services = live_app.services
    for name, role, force in (
        ("ana", Role.NATIONAL_ANALYST, None),
        ("sue", Role.NATIONAL_SUPERVISOR, None),
        ("kim", Role.FORCE_CONTACT, "E23000032"),
        ("eve", Role.FORCE_CONTACT, "E23000028"),
    ):
        services.users.create(name, TEST_PASSWORD, [role], force_code=force, actor="test")
    subject = seed_subject(services)

    ana = _person(browser, live_app, "ana")
    ana.goto(live_app.url("/ui/packages"))
    ana.fill("#subject", subject)
    _click(ana, "#build")
    assert ana.url.endswith("/ui/packages/PKG-000001")
    assert ana.inner_text("#state") == "draft"
    assert ana.inner_text("#destination") == "Kent Police"
    assert ana.locator("#approve").count() == 0  # analysts do not approve

    sue = _person(browser, live_app, "sue")
    sue.goto(live_app.url("/ui/packages/PKG-000001"))
    _click(sue, "#approve")
    assert sue.inner_text("#state") == "approved"
    _click(sue, "#send")
    assert sue.inner_text("#state") == "disseminated"

    eve = _person(browser, live_app, "eve")
    eve.goto(live_app.url("/ui/packages"))
    assert eve.locator("#no-packages").count() == 1
    for path in (
        "/ui/packages/PKG-000001",
        "/ui/packages/PKG-000001/document.html",
        "/v1/packages/PKG-000001",
    ):
        answer = eve.goto(live_app.url(path))
        assert answer is not None
        assert answer.status == 404, path
    api = eve.goto(live_app.url("/v1/packages"))
    assert api is not None
    assert api.json() == []

    kim = _person(browser, live_app, "kim")
    kim.goto(live_app.url("/ui/packages"))
    _click(kim, "a[href='/ui/packages/PKG-000001']")
    _click(kim, "#acknowledge")
    assert kim.inner_text("#state") == "acknowledged"
    # The date of action starts at today, and the picker allows no day outside the package's
    # life (it was built today), give or take the day a local date may differ from UTC's.
    day = services.package_outcomes.today()
    today = day.isoformat()
    assert kim.input_value("#occurred_on") == today
    assert kim.get_attribute("#occurred_on", "min") == (day - timedelta(days=1)).isoformat()
    assert kim.get_attribute("#occurred_on", "max") == (day + timedelta(days=1)).isoformat()
    for field, value in (
        ("premises_searched", "2"),
        ("arrests", "1"),
        ("voluntary_interviews", "1"),
        ("charges", "1"),
        ("children_safeguarded", "3"),
        ("children_at_serious_risk", "1"),
        ("safeguarding_basis", "in the care, custody or control of the suspect"),
    ):
        kim.fill(f"#{field}", value)
    kim.select_option("#registered_sex_offender", "no")
    kim.fill("#devices", "laptop\nphone")
    _click(kim, "#record-outcome")
    assert "in the care, custody or control" in kim.inner_text("#outcomes")
    document = kim.goto(live_app.url("/ui/packages/PKG-000001/document.html"))
    assert document is not None
    assert document.status == 200
    assert kim.locator("[data-handling]").count() >= 1

    sue.goto(live_app.url("/ui/packages/dashboard"))
    recorded = {
        "arrests": 1,
        "premises_searched": 2,
        "children_safeguarded": 3,
        "children_at_serious_risk": 1,
        "devices_seized": 2,
        "charges": 1,
        "voluntary_interviews": 1,
        "packages": 1,
    }
    for field, value in recorded.items():
        assert sue.inner_text(f"[data-national='{field}']") == str(value), field
    assert sue.locator("svg.chart").count() == 4
    audit = [e.action for e in services.package_store.events()]
    assert {
        "built",
        "approved",
        "disseminated",
        "acknowledged",
        "outcome-recorded",
        "denied",
    } <= set(audit)
