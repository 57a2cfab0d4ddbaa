"""Done-when: an examiner grades a scanned exhibit by keyboard only in a real browser.

Debian's Chromium under Playwright against the real app over HTTP: a group graded with one
key, a reveal (audited), a grade changed, publication confirmed by a second examiner, and a
second exhibit scanned afterwards finds the graded picture known-bad with its category.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from safeguard.domain.cases import FileStatus
from safeguard.domain.people import Role
from safeguard.services.examiner.triage_model import ScanOptions
from safeguard.services.review.publication import GRADED_LIST
from tests.browser_support import TEST_PASSWORD, LiveApp, sign_in
from tests.unit.services.review.review_exhibit import scanned_review_case

pytestmark = pytest.mark.slow

CAT_A = "Category A (Sentencing Council)"
CAT_B = "Category B (Sentencing Council)"
CAT_C = "Category C (Sentencing Council)"


def _press(page: Page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)


def _wait_until_wider(page: Page, selector: str, pixels: int, seconds: float = 10.0) -> None:
    # Not `page.wait_for_function`: after its first try it polls by evaluating a string in
    # the page, which the pages' Content-Security-Policy (no 'unsafe-eval') refuses; so it
    # failed whenever the image had not loaded by the first try.
    image = page.locator(selector)
    deadline = time.monotonic() + seconds
    while image.evaluate("img => img.naturalWidth") <= pixels:
        assert time.monotonic() < deadline, f"{selector} still {pixels} px or narrower"
        page.wait_for_timeout(50)


def test_examiner_grades_by_keyboard_and_publishes_after_a_second_examiner(
    browser: Browser, live_app: LiveApp, tmp_path: Path
) -> None:
    services = live_app.services
    review = scanned_review_case(services, tmp_path / "exhibit")
    services.users.create("outsider", TEST_PASSWORD, [Role.EXAMINER], actor="test")
    case_id, exhibit_id = review.case.case_id, review.exhibit.exhibit_id
    grid_url = live_app.url(f"/ui/review/cases/{case_id}/exhibits/{exhibit_id}")
    names = {i.item_no: Path(i.path).name for i in services.review_store.items(exhibit_id)}
    assert names[1] == "a_mirrored.png"
    assert names[5] == "b_copy.jpg"
    assert names[7] == "c_alone.jpg"

    first = browser.new_context()
    page = first.new_page()
    sign_in(page, live_app, "exa")
    page.goto(grid_url)
    expect(page.locator(".tile")).to_have_count(8)
    expect(page.locator("#item-1")).to_have_class("tile cursor selected")
    # A whole group (four near-duplicates: rotated, mirrored, re-encoded) graded with one key.
    _press(page, "g", "1")
    for n in (1, 2, 3, 4):
        expect(page.locator(f"#item-{n} .grade")).to_have_text(CAT_A)
    expect(page.locator("#item-5 .grade")).to_have_text("")
    _press(page, "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "g", "2")
    for n in (5, 6):
        expect(page.locator(f"#item-{n} .grade")).to_have_text(CAT_B)
    # A reveal, for this item only, on an explicit key; the server records it.
    _press(page, "ArrowRight", "ArrowRight")
    thumb_src = page.locator("#item-7 img").get_attribute("src")
    _press(page, "r")
    expect(page.locator("#item-7 img")).to_have_attribute("src", re.compile(r"revealed\?ticket="))
    _wait_until_wider(page, "#item-7 img", 200)
    _press(page, "4")
    expect(page.locator("#item-7 .grade")).to_have_text("Not indecent")
    # Moving away blurs it again.
    _press(page, "ArrowLeft", "ArrowLeft")
    expect(page.locator("#item-7 img")).to_have_attribute("src", thumb_src or "")
    # A grade changed: item 5 alone (the selection no longer holds its group).
    _press(page, "3")
    expect(page.locator("#item-5 .grade")).to_have_text(CAT_C)
    expect(page.locator("#item-6 .grade")).to_have_text(CAT_B)
    expect(page.locator("#detail")).to_contain_text("B by exa → C by exa")
    expect(page.locator("#detail")).to_contain_text("group 5")
    _press(page, "ArrowRight", "ArrowRight", "ArrowRight", "5")
    expect(page.locator("#item-8 .grade")).to_have_text("Ignorable")
    # The break reminder: 46 minutes in the grid (45 by default) brings it up.
    expect(page.locator("#break")).to_be_hidden()
    page.evaluate(
        "sessionStorage.setItem('safeguard.review.since', String(Date.now() - 46 * 60000))"
    )
    page.reload()
    expect(page.locator("#break")).to_be_visible()
    revealed = [
        e for e in services.case_service.audit_log(review.case) if e.action == "review.revealed"
    ]
    assert [(e.actor, e.detail["item"]) for e in revealed] == [("user:exa", "7")]

    # Publication: asked for by the first examiner (Enter on the focused button)...
    page.goto(live_app.url(f"/ui/review/cases/{case_id}/publish"))
    expect(page.locator("#grade-counts")).to_contain_text(CAT_A)
    expect(page.locator("#request-publication")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#publications .state")).to_have_text(["pending"])
    expect(page.locator("#publications")).to_contain_text("waiting for a second examiner")
    first.close()

    # ... someone without the case on their access list gets nothing ...
    outsider = browser.new_context()
    other = outsider.new_page()
    sign_in(other, live_app, "outsider")
    refused = other.goto(grid_url)
    assert refused is not None
    assert refused.status == 404
    assert "c_alone" not in other.content()
    outsider.close()

    # ... and confirmed by a second examiner.
    second = browser.new_context()
    page = second.new_page()
    sign_in(page, live_app, "exb")
    page.goto(live_app.url(f"/ui/review/cases/{case_id}/publish"))
    expect(page.locator("#publications button").first).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#publications .state")).to_have_text(["published"])
    expect(page.locator("#publications")).to_contain_text(f"{GRADED_LIST}=1")
    second.close()

    # A second exhibit scanned afterwards finds the graded pictures known-bad, with the
    # examiner's category (b_original stayed B; the group's other member was changed to C).
    later = tmp_path / "later"
    later.mkdir()
    for name in ("b_original.jpg", "a_rotated.jpg", "c_alone.jpg"):
        (later / name).write_bytes((tmp_path / "exhibit" / name).read_bytes())
    services.case_service.new_case("OP-LATER", "exb")
    services.triage_service.scan(
        later, "OP-LATER", options=ScanOptions(workers=1, hash_options=services.hash_options)
    )
    case = services.case_service.find("OP-LATER")
    results = {
        Path(r.path).name: r
        for r in services.case_service.store.results(
            services.case_service.exhibit(case, "later").exhibit_id
        )
    }
    assert results["b_original.jpg"].status is FileStatus.KNOWN_BAD
    assert results["b_original.jpg"].category.code == "B"
    assert results["a_rotated.jpg"].category.code == "A"
    assert results["c_alone.jpg"].status is FileStatus.KNOWN_GOOD
