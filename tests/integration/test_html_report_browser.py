"""The HTML report opens in a real browser (headless Chromium) and shows the JSON's counts."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from safeguard.reporting.contract import renderer_named
from tests.integration.browser_tools import chromium
from tests.unit.reporting.report_parsing import parse_report
from tests.unit.reporting.test_renderers import _report

pytestmark = pytest.mark.slow


def test_chromium_renders_the_report_with_the_json_counts(tmp_path: Path) -> None:
    report = _report()
    page = tmp_path / "report.html"
    with page.open("w", encoding="utf-8") as stream:
        renderer_named("html").render(report, stream)
    buffer = io.StringIO()
    renderer_named("json").render(report, buffer)
    expected = json.loads(buffer.getvalue())["counts"]
    dom = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    parsed = parse_report(dom)
    assert parsed.status_counts == expected
    assert parsed.scripts == 0
    assert parsed.images == []


def test_column_heads_fit_their_columns_on_a_laptop_screen(
    tmp_path: Path, browser: Browser
) -> None:
    # The devices table has a column per status ("unknown-image", ...): at 1280 px its heads
    # once ran into each other; each head's text must fit inside its own cell.
    page_file = tmp_path / "report.html"
    with page_file.open("w", encoding="utf-8") as stream:
        renderer_named("html").render(_report(), stream)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(page_file.as_uri())
        overflowing = page.eval_on_selector_all(
            "table th",
            "heads => heads.filter(h => h.scrollWidth > h.clientWidth + 1).map(h => h.textContent)",
        )
    finally:
        page.close()
    assert overflowing == []
