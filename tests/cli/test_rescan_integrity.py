"""Issue 12 item 6: a completed exhibit that changed is never silently merged into its record."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from typer.testing import CliRunner

from safeguard.cli.app import _register, app
from safeguard.services.demo.pictures import encode, synthetic_photo

_register()
runner = CliRunner()


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_changed_exhibit_is_refused_then_rescanned_on_request(
    isolated_env: Path, tmp_path: Path
) -> None:
    listed_picture = encode(synthetic_photo(7, 120, 90))
    (tmp_path / "list.md5").write_text(f"{hashlib.md5(listed_picture).hexdigest()}  x.jpg\n")
    assert (
        runner.invoke(app, ["lists", "import", str(tmp_path / "list.md5"), "--name", "l"]).exit_code
        == 0
    )
    exhibit = tmp_path / "exhibit"
    exhibit.mkdir()
    (exhibit / "a.jpg").write_bytes(encode(synthetic_photo(1, 120, 90)))
    (exhibit / "b.txt").write_text("benign\n")
    assert runner.invoke(app, ["case", "new", "--number", "R-1", "--examiner", "e"]).exit_code == 0
    scan = [
        "scan",
        str(exhibit),
        "--case",
        "R-1",
        "--exhibit-ref",
        "X/1",
        "--workers",
        "1",
        "--json",
    ]
    first = runner.invoke(app, scan)
    assert first.exit_code == 0, first.output
    assert _json_lines(first.stdout)[-1]["counts"]["known-bad"] == 0
    unchanged = runner.invoke(app, scan)
    assert unchanged.exit_code == 0, unchanged.output
    assert _json_lines(unchanged.stdout)[-1]["skipped"] == 2

    # A file replaced by a listed picture, and a file added.
    (exhibit / "a.jpg").write_bytes(listed_picture)
    os.utime(exhibit / "a.jpg", (1_700_000_000, 1_700_000_000))
    (exhibit / "c.txt").write_text("new\n")
    refused = runner.invoke(app, scan)
    assert refused.exit_code == 2
    message = " ".join(refused.output.split())
    assert "changed since its completed scan" in message
    assert "1 new" in message
    assert "1 changed" in message
    assert "--rescan-changed" in message
    shown = _json_lines(runner.invoke(app, ["case", "show", "R-1", "--json"]).stdout)[0]
    assert shown["exhibits"][0]["runs"] == 2  # nothing recorded by the refused scan

    rescanned = runner.invoke(app, [*scan, "--rescan-changed"])
    assert rescanned.exit_code == 0, rescanned.output
    summary = _json_lines(rescanned.stdout)[-1]
    assert summary["counts"]["known-bad"] == 1  # the replaced file is not "already done"
    assert summary["recorded"] == 2

    report = tmp_path / "r.json"
    assert (
        runner.invoke(app, ["report", "R-1", "--format", "json", "-o", str(report)]).exit_code == 0
    )
    audit = json.loads(report.read_text())["audit"]
    [changed] = [e for e in audit if e["action"] == "exhibit.changed"]
    manifests = [e["detail"]["manifest_sha256"] for e in audit if e["action"] == "scan.completed"]
    assert changed["detail"]["previous_manifest_sha256"] == manifests[0]
    assert len(manifests) == 3
    assert manifests[0] == manifests[1] != manifests[2]
