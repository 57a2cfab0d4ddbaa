"""The conformance suite: files as the field's tools write them, in and out of Safeguard.

Where Debian or PyPI ships the tool (coreutils, hashdeep/md5deep, python-threatexchange) the
tool itself writes the files and reads Safeguard's exports; elsewhere the files follow the
tool's documented shape. Every test imports, matches and exports through the CLI, as a user
would, and checks that the same entries, categories and counts come out. Content is generated
stand-ins, never listed material.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

import safeguard.cli.lists_commands
import safeguard.cli.match_command  # noqa: F401  (registers `lists` and `match`)
from safeguard.cli.app import app
from tests.conftest import require_tool

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(isolated_env: Path) -> Path:
    return isolated_env


def cli(*args: str) -> tuple[int, str, str]:
    """Run ``safeguard ARGS``: exit code, stdout, stderr."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def imported(path: Path, name: str, *extra: str) -> dict[str, object]:
    """Import `path` as list `name` and return the JSON record, counts included."""
    code, out, err = cli("lists", "import", str(path), "--name", name, "--json", *extra)
    assert code == 0, out + err
    record = json.loads(out.strip().splitlines()[-1])
    assert isinstance(record, dict)
    return record


def counts_of(record: dict[str, object]) -> dict[str, object]:
    counts = record["counts"]
    assert isinstance(counts, dict)
    return counts


def matched(path: Path, *extra: str) -> list[dict[str, object]]:
    """``safeguard match --hashes PATH --json``: one record per query."""
    code, out, err = cli("match", "--hashes", str(path), "--json", *extra)
    assert code == 0, out + err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def exported(name: str, path: Path, format_name: str, *extra: str) -> str:
    code, out, err = cli("lists", "export", name, "-o", str(path), "--format", format_name, *extra)
    assert code == 0, out + err
    return err


def tool(name: str) -> str:
    """The path of a Debian tool; a missing tool skips, except under CI where it fails."""
    return require_tool(name)


def run_tool(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run a real tool in `cwd` (never over the network), capturing its output as bytes."""
    return subprocess.run(list(args), cwd=cwd, capture_output=True, check=False, timeout=60)
