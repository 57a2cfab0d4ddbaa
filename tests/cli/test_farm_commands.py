"""`safeguard farm submit|work|status` on one machine (process pool, SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import safeguard.cli.farm_commands  # registers `farm`
import safeguard.cli.scan_commands  # noqa: F401
from safeguard.cli.app import app
from safeguard.services.demo.pictures import write_photo

runner = CliRunner()


def _folder(root: Path, name: str, pictures: int) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for seed in range(pictures):
        # Generated benign stand-ins; nothing here is, or depicts, abuse material.
        write_photo(folder / f"{seed}.jpg", seed=seed, width=160, height=120)
    (folder / "notes.txt").write_text("shopping list\n", encoding="utf-8")
    return folder


def test_queue_work_and_watch_two_exhibits(isolated_env: Path, tmp_path: Path) -> None:
    first, second = _folder(tmp_path, "phone", 3), _folder(tmp_path, "laptop", 2)
    assert (
        runner.invoke(app, ["case", "new", "--number", "OP-9", "--examiner", "ex-a"]).exit_code == 0
    )
    result = runner.invoke(app, ["farm", "submit", str(first), str(second), "--case", "OP-9"])
    assert result.exit_code == 0, result.output
    assert "Queued 2 of 2 exhibits" in result.output
    again = runner.invoke(app, ["farm", "submit", str(first), "--case", "OP-9"])
    assert "Queued 0 of 1" in again.output

    status = runner.invoke(app, ["farm", "status", "--json"])
    assert [json.loads(line)["state"] for line in status.output.splitlines()] == ["queued"] * 2

    result = runner.invoke(app, ["farm", "work", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "2 exhibits done, 0 queued again, 0 failed" in result.output

    records = [
        json.loads(line)
        for line in runner.invoke(app, ["farm", "status", "--json"]).output.splitlines()
    ]
    assert [(r["exhibit"], r["state"], r["files_recorded"]) for r in records] == [
        ("phone", "done", 4),
        ("laptop", "done", 3),
    ]
    assert runner.invoke(app, ["farm", "status", "--case", "OP-9"]).exit_code == 0


def test_submit_refuses_a_missing_exhibit_or_case(isolated_env: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["farm", "submit", str(tmp_path), "--case", "NOPE"])
    assert result.exit_code == 2
    runner.invoke(app, ["case", "new", "--number", "OP-9", "--examiner", "ex-a"])
    result = runner.invoke(app, ["farm", "submit", str(tmp_path / "gone"), "--case", "OP-9"])
    assert result.exit_code == 2
    assert "exhibit not found" in result.output
