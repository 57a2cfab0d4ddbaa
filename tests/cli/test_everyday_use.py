"""Issue 12 items 3, 4 and 10: commands say what they checked, what they did not open, and
behave in scripts and pipes as people expect."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.app import _register, app
from safeguard.services.demo.pictures import encode, synthetic_photo

_register()
runner = CliRunner()


@pytest.fixture
def folder(isolated_env: Path, tmp_path: Path) -> Path:
    root = tmp_path / "folder"
    root.mkdir()
    picture = encode(synthetic_photo(3, 120, 90))
    (root / "known.jpg").write_bytes(picture)
    (root / "other.jpg").write_bytes(encode(synthetic_photo(4, 120, 90)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inside.jpg", picture)
    (root / "bundle.zip").write_bytes(buffer.getvalue())
    (root / "broken.jpg").write_bytes(picture[:200])
    listed = tmp_path / "stand-in.md5"
    listed.write_text(f"{hashlib.md5(picture).hexdigest()}  stand-in.jpg\n")
    return root


def _import(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["lists", "import", str(tmp_path / "stand-in.md5"), "--name", "stand-in", "--version", "3"],
    )
    assert result.exit_code == 0, result.output


def test_match_warns_when_no_list_is_enabled(folder: Path, tmp_path: Path) -> None:
    _import(tmp_path)
    assert runner.invoke(app, ["lists", "disable", "stand-in"]).exit_code == 0
    result = runner.invoke(app, ["match", str(folder), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "no hash list is enabled, so nothing is checked" in " ".join(result.output.split())


def test_match_states_its_lists_counts_checked_files_and_names_what_it_did_not_open(
    folder: Path, tmp_path: Path
) -> None:
    _import(tmp_path)
    result = runner.invoke(app, ["match", str(folder), "--workers", "1"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Checking against 1 list: stand-in v3 (known-bad, PDQ threshold 31)" in text
    assert "4 files checked: 1 known-bad, 0 known-good, 3 unknown; 1 with errors." in text
    assert "not opened: 1 archive" in text
    assert "safeguard scan" in text
    as_json = runner.invoke(app, ["match", str(folder), "--workers", "1", "--json"])
    records = [json.loads(x) for x in as_json.stdout.splitlines() if x.startswith("{")]
    by_name = {Path(str(r["path"])).name: r for r in records}
    assert by_name["bundle.zip"]["not_opened"] == "archive"
    # One vocabulary with scans and reports: a picture that cannot be decoded is an error.
    assert by_name["broken.jpg"]["status"] == "error"
    assert by_name["other.jpg"]["status"] == "unknown-image"
    assert by_name["known.jpg"]["status"] == "known-bad"
    [match] = by_name["known.jpg"]["matches"]
    assert match["list_name"] == "stand-in"
    assert match["list"] == "stand-in"  # the earlier name, kept as an alias


def test_fail_on_match_sets_the_exit_status(folder: Path, tmp_path: Path) -> None:
    _import(tmp_path)
    assert (
        runner.invoke(app, ["match", str(folder / "other.jpg"), "--fail-on-match"]).exit_code == 0
    )
    assert runner.invoke(app, ["match", str(folder), "--fail-on-match", "-w", "1"]).exit_code == 3
    assert runner.invoke(app, ["case", "new", "--number", "F-1", "--examiner", "e"]).exit_code == 0
    scanned = runner.invoke(
        app, ["scan", str(folder), "--case", "F-1", "--workers", "1", "--fail-on-match", "--json"]
    )
    assert scanned.exit_code == 3, scanned.output
    summary = json.loads(scanned.stdout.splitlines()[-1])
    # The picture inside the zip is found by scan; the truncated picture is an error.
    assert summary["counts"]["known-bad"] == 2
    assert summary["counts"]["error"] == 1


@pytest.mark.parametrize("command", ["scan", "match", "hash"])
def test_negative_workers_are_refused(folder: Path, command: str) -> None:
    extra = ["--case", "x"] if command == "scan" else []
    result = runner.invoke(app, [command, str(folder), *extra, "--workers", "-1"])
    assert result.exit_code == 2
    assert "greater than or equal" in result.output


def _safeguard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safeguard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_help_shows_names_and_defaults_not_python_types(isolated_env: Path) -> None:
    env = {**os.environ, "COLUMNS": "100"}
    for command in (["scan"], ["lists", "import"]):
        shown = _safeguard(*command, "--help", env=env)
        assert shown.returncode == 0, shown.stderr
        for noise in ("<bool>", "<str>", "<int>", "<path>", "list[str]"):
            assert noise not in shown.stdout, (command, noise)
    scan_help = _safeguard("scan", "--help", env=env).stdout
    assert "--case" in scan_help
    assert "CASE" in scan_help
    assert "[default: 0]" in scan_help


@pytest.mark.slow
def test_piped_output_fits_80_columns_and_head_ends_it_quietly(
    folder: Path, tmp_path: Path
) -> None:
    _import(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    long_name = tmp_path / "list-with-a-rather-long-name-from-an-issuer.md5"
    long_name.write_text((tmp_path / "stand-in.md5").read_text())
    assert (
        runner.invoke(
            app,
            [
                "lists",
                "import",
                str(long_name),
                "--source",
                "A national unit with a long name",
                "--version",
                "2026-12-06T09:00:00+00:00",
            ],
        ).exit_code
        == 0
    )
    table = _safeguard("lists", "show", env=env)
    assert table.returncode == 0, table.stderr
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    many = tmp_path / "many"
    many.mkdir()
    for index in range(40):
        (many / f"{index}.txt").write_text(f"file {index}\n" * 2000)
    piped = subprocess.run(
        [
            "bash",
            "-o",
            "pipefail",
            "-c",
            f"{sys.executable} -m safeguard match --json -w 1 {many} | head -n 1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.splitlines()) == 1
    assert "BrokenPipe" not in piped.stderr
    assert "Traceback" not in piped.stderr
