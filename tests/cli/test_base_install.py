"""The base install, without any extra: a folder scan and a report work, disk images say why not.

A throwaway environment gets only the locked base dependencies (``uv sync --no-dev``, no
extras) and the ``safeguard`` command is run there as a user would run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from safeguard.services.demo_data import encode, synthetic_photo

REPOSITORY = Path(__file__).resolve().parents[2]
EXTRA_MODULES = ("pytsk3", "pyewf", "py7zr", "rarfile", "av", "fastapi", "cv2", "ray", "psycopg")


@pytest.fixture(scope="module")
def base_environment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        if os.environ.get("CI"):
            pytest.fail("uv is needed to build the base-install environment")
        pytest.skip("uv not installed")
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


def _run(venv: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env["SAFEGUARD_DATA_DIR"] = str(data)
    return subprocess.run(
        [str(venv / "bin" / "safeguard"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


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
    data = tmp_path / "data"

    opened = _run(base_environment, data, "case", "new", "--number", "B-1", "--examiner", "E")
    assert opened.returncode == 0, opened.stderr
    scanned = _run(base_environment, data, "scan", str(exhibit), "--case", "B-1")
    assert scanned.returncode == 0, scanned.stderr
    assert "unknown-image 1" in scanned.stdout
    image = _run(base_environment, data, "scan", str(tmp_path / "disk.img"), "--case", "B-1")
    assert image.returncode == 0, image.stderr
    assert "need the optional 'forensics' extra" in image.stdout

    html = tmp_path / "report.html"
    written = _run(base_environment, data, "report", "B-1", "-o", str(html))
    assert written.returncode == 0, written.stderr
    page = html.read_text()
    assert "photo.jpg" in page
    assert "need the optional &#39;forensics&#39; extra" in page or "forensics" in page
