"""Kill `safeguard scan` with SIGKILL part-way, run it again, and compare with a clean scan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safeguard.bootstrap import build_services
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.examiner.triage import ScanOptions
from safeguard.settings import Settings
from safeguard.storage.sql.case_store import SqlCaseStore
from safeguard.storage.sql.engine import make_engine
from safeguard.storage.sql.tables_cases import file_results

pytestmark = pytest.mark.slow

FILES = 800  # several commit batches, so a kill after the first lands well before the end


@pytest.fixture(scope="module")
def exhibit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("resume") / "exhibit"
    for i in range(FILES):
        folder = root / f"folder{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        if i % 3 == 0:
            (folder / f"note{i:04d}.txt").write_text(f"note {i}\n" * (i % 50 + 1))
        else:
            picture = synthetic_photo(i, 48, 36)
            (folder / f"pic{i:04d}.jpg").write_bytes(encode(picture, quality=80))
    return root


def _safeguard(
    data_dir: Path, *args: str, stderr: int = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SAFEGUARD_DATA_DIR=str(data_dir))
    env.pop("SAFEGUARD_DB", None)
    env.pop("SAFEGUARD_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "safeguard", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def _run(data_dir: Path, *args: str) -> None:
    process = _safeguard(data_dir, *args)
    _, err = process.communicate(timeout=240)
    assert process.returncode == 0, err.decode()


def _results(data_dir: Path) -> list[tuple[object, ...]]:
    engine = make_engine(f"sqlite:///{data_dir / 'safeguard.db'}")
    try:
        store = SqlCaseStore(engine)
        case = store.case_by_number("OP-R")
        (exhibit,) = store.exhibits(case.case_id)
        with engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(file_results)).scalar_one()
        found = [
            (r.path, r.status.value, r.size, r.md5, r.sha1, r.sha256, r.pdq, r.error)
            for r in store.results(exhibit.exhibit_id)
        ]
        assert rows == len(found)
        return found
    finally:
        engine.dispose()


def _committed(db: Path) -> int:
    if not db.exists():
        return 0
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(file_results)).scalar_one())
    except Exception:  # the schema may not be there yet while the scan starts
        return 0
    finally:
        engine.dispose()


def _open_case(data_dir: Path) -> None:
    services = build_services(Settings(data_dir=data_dir))
    services.case_service.new_case("OP-R", "Examiner R")
    services.engine.dispose()


def test_killed_scan_resumes_to_the_same_results(exhibit: Path, tmp_path: Path) -> None:
    scan = ("scan", str(exhibit), "--case", "OP-R", "--workers", "1", "--json")
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for data_dir in (clean, killed):
        _open_case(data_dir)
    # The uninterrupted reference scan runs in this process: same service, same options.
    services = build_services(Settings(data_dir=clean))
    services.triage_service.scan(
        exhibit, "OP-R", options=ScanOptions(workers=1, hash_options=services.hash_options)
    )
    services.engine.dispose()
    expected = _results(clean)
    assert len(expected) == FILES

    process = _safeguard(killed, *scan, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and process.poll() is None:
        committed = _committed(killed / "safeguard.db")
        if committed:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the scan finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    committed = _committed(killed / "safeguard.db")
    assert 0 < committed < FILES

    _run(killed, *scan)
    assert _results(killed) == expected
