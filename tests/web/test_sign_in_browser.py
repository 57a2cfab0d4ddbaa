"""Sign-in, a refused page and sign-out in a real browser (Debian's Chromium, Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from safeguard.domain.people import Role
from tests.browser_support import TEST_PASSWORD, LiveApp, sign_in

pytestmark = pytest.mark.slow


def test_a_person_signs_in_sees_their_role_and_signs_out(
    browser: Browser, live_app: LiveApp
) -> None:
    live_app.services.users.create(
        "kim", TEST_PASSWORD, [Role.EXAMINER], display_name="Kim Example", actor="test"
    )
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_app.url("/ui/reports"))
    assert page.url.endswith("/ui/login?next=/ui/reports")
    page.fill("#username", "kim")
    page.fill("#password", "wrong password here")
    page.click("#sign-in")
    assert "sign-in refused" in page.inner_text("#sign-in-error")
    sign_in(page, live_app, "kim")
    assert page.inner_text("#signed-user") == "Kim Example"
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["safeguard_session"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Strict"
    # The page cannot read the session id.
    assert "safeguard_session" not in page.evaluate("document.cookie")
    refused = page.goto(live_app.url("/ui/reports"))
    assert refused is not None
    assert refused.status == 403
    page.goto(live_app.url("/ui/"))
    with page.expect_navigation():
        page.click("#sign-out")
    assert page.url.endswith("/ui/login")
    actions = [e.action for e in live_app.services.case_service.store.audit_events()]
    assert actions[-3:] == ["user.sign-in-failed", "user.signed-in", "user.signed-out"]
    context.close()
