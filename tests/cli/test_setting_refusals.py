"""A setting out of range stops a command, or `safeguard serve`, with one line and status 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_module


def _environment(data: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    return {**env, "SAFEGUARD_DATA_DIR": str(data), "COLUMNS": "60", **settings}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A process group of its own: should a refusal not happen, nothing it started outlives
    # the test (serve's workers included).
    process = subprocess.Popen(
        [sys.executable, "-m", "safeguard", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize(
    "command",
    [
        ["scan", "{exhibit}", "--case", "C-1"],  # builds its services outside errors_to_exit
        ["hash", "{exhibit}"],
        ["keys", "list"],
    ],
    ids=lambda command: command[0],
)
def test_a_command_refuses_a_setting_out_of_range_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    exhibit = tmp_path / "exhibit"
    exhibit.mkdir()
    (exhibit / "note.txt").write_text("benign")
    data = tmp_path / "data"
    args = [part.replace("{exhibit}", str(exhibit)) for part in command]
    done = _run(args, _environment(data, SAFEGUARD_WORKERS="-1"))
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "error: workers (SAFEGUARD_WORKERS) must be from 0 to 4,096, not -1: "
        "processes for hashing and scanning; 0: one per core\n"
    )
    assert done.stdout == ""
    assert not data.exists()  # stopped before any store was made


def test_serve_refuses_to_start_with_a_setting_out_of_range(tmp_path: Path) -> None:
    require_module("uvicorn", "the server extra is not installed")
    data = tmp_path / "data"
    env = _environment(data, SAFEGUARD_DECODE_TIMEOUT_SECONDS="0")
    done = _run(["serve", "--port", "0"], env)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "error: decode_timeout_seconds (SAFEGUARD_DECODE_TIMEOUT_SECONDS) must be from 1 "
        "to 600, not 0: seconds before a decode is killed\n"
    )
    assert "serving on" not in done.stdout + done.stderr
    assert not data.exists()
