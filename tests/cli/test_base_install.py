"""The base install, without any extra: a folder scan and a report work, disk images say why not.

A throwaway environment gets only the locked base dependencies (``uv sync --no-dev``, no
extras) and the ``safeguard`` command is run there as a user would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.conftest import missing

REPOSITORY = Path(__file__).resolve().parents[2]
EXTRA_MODULES = ("pytsk3", "pyewf", "py7zr", "rarfile", "av", "fastapi", "cv2", "ray", "psycopg")


@pytest.fixture(scope="module")
def base_environment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        missing("uv is needed to build the base-install environment")
    venv = tmp_path_factory.mktemp("base") / "venv"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["UV_PROJECT_ENVIRONMENT"] = str(venv)
    subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--quiet"],
        cwd=REPOSITORY,
        env=env,
        check=True,
        timeout=600,
    )
    return venv


_DRIVER = """
import json, sys
from typer.testing import CliRunner
from safeguard.cli.app import _register, app
_register()
runner = CliRunner()
outcomes = []
for args in json.loads(sys.argv[1]):
    result = runner.invoke(app, args)
    outcomes.append({"code": result.exit_code, "output": result.output})
print(json.dumps(outcomes))
"""


def _run_commands(venv: Path, data: Path, *commands: list[str]) -> list[dict[str, object]]:
    """Run `safeguard` commands in one interpreter of the base environment (one start-up)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env["SAFEGUARD_DATA_DIR"] = str(data)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", _DRIVER, json.dumps(list(commands))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    outcomes: list[dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcomes


@pytest.mark.slow
def test_folder_scan_and_report_without_extras(base_environment: Path, tmp_path: Path) -> None:
    python = base_environment / "bin" / "python"
    probe = "import importlib.util as u, sys; print([m for m in sys.argv[1:] if u.find_spec(m)])"
    installed = subprocess.run(
        [str(python), "-c", probe, *EXTRA_MODULES], capture_output=True, text=True, check=True
    )
    assert installed.stdout.strip() == "[]", "the base environment must hold no extra"

    exhibit = tmp_path / "exhibit"
    exhibit.mkdir()
    (exhibit / "photo.jpg").write_bytes(encode(synthetic_photo(3, 120, 90)))
    (exhibit / "note.txt").write_text("benign\n")
    disk = bytearray(4096)
    disk[510:512] = b"\x55\xaa"
    disk[446 + 4] = 0x06
    disk[446 + 8 : 446 + 16] = (1).to_bytes(4, "little") + (7).to_bytes(4, "little")
    (tmp_path / "disk.img").write_bytes(bytes(disk))

    html = tmp_path / "report.html"
    opened, scanned, image, written, served = _run_commands(
        base_environment,
        tmp_path / "data",
        ["case", "new", "--number", "B-1", "--examiner", "E"],
        ["scan", str(exhibit), "--case", "B-1"],
        ["scan", str(tmp_path / "disk.img"), "--case", "B-1"],
        ["report", "B-1", "-o", str(html)],
        ["serve", "--port", "0"],
    )
    assert opened["code"] == 0, opened
    assert scanned["code"] == 0, scanned
    assert "unknown-image 1" in str(scanned["output"])
    assert image["code"] == 0, image
    assert "disk images: not available without the optional 'forensics' extra" in str(
        image["output"]
    )
    assert written["code"] == 0, written
    assert served["code"] == 2
    assert "without the optional 'server' extra" in str(served["output"])
    page = html.read_text()
    assert "photo.jpg" in page
    assert "without the optional &#39;forensics&#39; extra" in page
