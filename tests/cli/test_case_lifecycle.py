"""Issue 12 item 7: cases are listed, and a closed (sealed) case refuses scans; closing is audited."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from safeguard.cli.app import _register, app

_register()
runner = CliRunner()


def test_cases_are_listed_and_a_closed_case_refuses_scans(
    isolated_env: Path, tmp_path: Path
) -> None:
    exhibit = tmp_path / "exhibit"
    exhibit.mkdir()
    (exhibit / "note.txt").write_text("benign\n")
    assert runner.invoke(app, ["case", "list"]).exit_code == 2  # no store yet: nothing made
    for number in ("OP-1", "OP-2"):
        opened = runner.invoke(app, ["case", "new", "--number", number, "--examiner", "Ex A"])
        assert opened.exit_code == 0, opened.output
    scanned = runner.invoke(app, ["scan", str(exhibit), "--case", "OP-1", "--workers", "1"])
    assert scanned.exit_code == 0, scanned.output
    listed = runner.invoke(app, ["case", "list"])
    assert listed.exit_code == 0, listed.output
    assert "OP-1" in listed.stdout
    assert "OP-2" in listed.stdout

    closing = runner.invoke(
        app, ["case", "close", "OP-1", "--examiner", "Ex B", "--reason", "done"]
    )
    assert closing.exit_code == 0, closing.output
    again = runner.invoke(app, ["case", "close", "OP-1", "--examiner", "Ex B", "--reason", "x"])
    assert again.exit_code == 2
    refused = runner.invoke(app, ["scan", str(exhibit), "--case", "OP-1", "--exhibit-ref", "B"])
    assert refused.exit_code == 2
    assert "closed (sealed)" in " ".join(refused.output.split())

    records = {
        r["number"]: r
        for r in (
            json.loads(line)
            for line in runner.invoke(app, ["case", "list", "--json"]).stdout.splitlines()
        )
    }
    assert records["OP-1"]["closed_by"] == "Ex B"
    assert records["OP-1"]["exhibits"] == 1
    assert records["OP-2"]["closed_at"] is None
    shown = runner.invoke(app, ["case", "show", "OP-1"])
    assert "CLOSED (sealed)" in shown.stdout
    report = tmp_path / "r.json"
    assert (
        runner.invoke(app, ["report", "OP-1", "--format", "json", "-o", str(report)]).exit_code == 0
    )
    audit = json.loads(report.read_text())["audit"]
    [closed] = [e for e in audit if e["action"] == "case.closed"]
    assert closed["actor"] == "Ex B"
    assert closed["detail"]["reason"] == "done"
