from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.app import _register, app
from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.unit.reporting.report_parsing import parse_report

_register()


@pytest.fixture
def cli(isolated_env: Path) -> CliRunner:
    return CliRunner()


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip().startswith("{")]


@pytest.fixture
def exhibit(tmp_path: Path) -> Path:
    root = tmp_path / "exhibit"
    (root / "pictures").mkdir(parents=True)
    for seed in range(4):
        (root / "pictures" / f"{seed}.jpg").write_bytes(encode(synthetic_photo(seed, 120, 90)))
    (root / "letter.txt").write_text("dear x\n")
    return root


@pytest.fixture
def known_list(tmp_path: Path, exhibit: Path) -> Path:
    # A "known" list built from a generated stand-in picture's digest.
    digest = hashlib.md5((exhibit / "pictures" / "2.jpg").read_bytes()).hexdigest()
    path = tmp_path / "stand-in.md5"
    path.write_text(f"{digest}  stand-in.jpg\n")
    return path


def test_case_scan_report_flow(
    cli: CliRunner, exhibit: Path, known_list: Path, tmp_path: Path
) -> None:
    imported = cli.invoke(
        app, ["lists", "import", str(known_list), "--name", "stand-in", "--kind", "known-bad"]
    )
    assert imported.exit_code == 0, imported.output
    opened = cli.invoke(
        app, ["case", "new", "--number", "OP-7", "--examiner", "Examiner C", "--json"]
    )
    assert opened.exit_code == 0, opened.output
    assert json_lines(opened.stdout)[0]["number"] == "OP-7"

    scanned = cli.invoke(
        app,
        [
            "scan",
            str(exhibit),
            "--case",
            "OP-7",
            "--exhibit-ref",
            "JB/1",
            "--workers",
            "1",
            "--json",
        ],
    )
    assert scanned.exit_code == 0, scanned.output
    events = json_lines(scanned.stdout)
    assert events[0]["event"] == "started"
    hits = [e for e in events if e["event"] == "hit"]
    assert [h["path"] for h in hits] == ["exhibit/pictures/2.jpg"]
    summary = events[-1]
    assert summary["event"] == "summary"
    assert summary["counts"] == {
        "known-bad": 1,
        "unknown-image": 3,
        "unknown-video": 0,
        "other": 1,
        "error": 0,
        "known-good": 0,
    }
    assert all("sha256" not in e and "md5" not in e for e in events)

    again = cli.invoke(
        app, ["scan", str(exhibit), "--case", "OP-7", "--exhibit-ref", "JB/1", "--json"]
    )
    assert json_lines(again.stdout)[-1]["skipped"] == 5

    shown = cli.invoke(app, ["case", "show", "OP-7", "--json"])
    assert shown.exit_code == 0, shown.output
    record = json_lines(shown.stdout)[0]
    assert record["exhibits"][0]["complete"] is True
    text = cli.invoke(app, ["case", "show", "OP-7"])
    assert "exhibit JB/1" in text.stdout
    assert "known-bad 1" in text.stdout

    html_path, json_path = tmp_path / "r.html", tmp_path / "r.json"
    for fmt, path in (("html", html_path), ("json", json_path)):
        written = cli.invoke(app, ["report", "OP-7", "--format", fmt, "-o", str(path)])
        assert written.exit_code == 0, written.output
    parsed = parse_report(html_path.read_text(encoding="utf-8"))
    assert parsed.status_counts == json.loads(json_path.read_text(encoding="utf-8"))["counts"]
    assert parsed.images == []
    for fmt in ("csv", "vics", "hashdeep"):
        out = tmp_path / f"r.{fmt}"
        written = cli.invoke(
            app, ["report", "OP-7", "--exhibit", "JB/1", "--format", fmt, "-o", str(out)]
        )
        assert written.exit_code == 0, written.output
        assert out.stat().st_size > 0


def test_errors_are_messages_not_tracebacks(cli: CliRunner, exhibit: Path) -> None:
    missing = cli.invoke(app, ["scan", str(exhibit), "--case", "NOPE"])
    assert missing.exit_code == 2
    assert "error" in missing.output
    assert "Traceback" not in missing.output
    cli.invoke(app, ["case", "new", "--number", "OP-8", "--examiner", "E"])
    duplicate = cli.invoke(app, ["case", "new", "--number", "OP-8", "--examiner", "E"])
    assert duplicate.exit_code == 2
    bad_format = cli.invoke(app, ["report", "OP-8", "--format", "docx"])
    assert bad_format.exit_code != 0
    no_list = cli.invoke(app, ["scan", str(exhibit), "--case", "OP-8", "--lists", "nope"])
    assert no_list.exit_code == 2


def test_report_as_pdf_holds_the_match_evidence(
    cli: CliRunner, exhibit: Path, known_list: Path, tmp_path: Path
) -> None:
    from tests.integration.browser_tools import chromium, pdf_pages

    chromium()
    cli.invoke(app, ["lists", "import", str(known_list), "--name", "stand-in"])
    cli.invoke(app, ["case", "new", "--number", "OP-9", "--examiner", "Examiner C"])
    scanned = cli.invoke(app, ["scan", str(exhibit), "--case", "OP-9", "--exhibit-ref", "JB/2"])
    assert scanned.exit_code == 0, scanned.output
    pdf = tmp_path / "r.pdf"
    written = cli.invoke(app, ["report", "OP-9", "--format", "pdf", "-o", str(pdf)])
    assert written.exit_code == 0, written.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages = pdf_pages(pdf)
    text = " ".join(" ".join(page.text.split()) for page in pages)
    assert "stand-in (known-bad)" in text
    assert "md5 exact" in text
    assert "Page 1 of" in text
    assert "Exhibit JB/2" in text


def test_report_pdf_names_the_package_when_chromium_is_missing(
    cli: CliRunner, exhibit: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEGUARD_CHROMIUM", str(tmp_path / "no-such-browser"))
    cli.invoke(app, ["case", "new", "--number", "OP-10", "--examiner", "E"])
    written = cli.invoke(app, ["report", "OP-10", "--format", "pdf", "-o", str(tmp_path / "r.pdf")])
    assert written.exit_code == 2
    assert "install the Debian package 'chromium'" in " ".join(written.output.split())
    assert not (tmp_path / "r.pdf").exists()
