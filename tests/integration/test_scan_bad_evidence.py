"""Bad evidence is recorded and reported while the scan goes on (memory stores, real readers)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from safeguard.domain.cases import FileResult, FileStatus
from safeguard.extraction.contract import ExtractionLimits
from safeguard.extraction.registry import open_exhibit
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.examiner.cases import CaseService
from safeguard.services.examiner.triage import ScanOptions, TriageService
from safeguard.storage.memory_cases import MemoryCaseStore
from tests.integration.disk_image_builders import build_fat_disk, make_e01
from tests.unit.services.examiner.test_triage import FakeLists


def _scan(
    path: Path, lists: FakeLists, limits: ExtractionLimits | None = None
) -> tuple[TriageService, list[FileResult]]:
    cases = CaseService(MemoryCaseStore())
    cases.new_case("OP-B", "Examiner")
    service = TriageService(cases, open_exhibit, lists.match, lists.all_lists)
    outcome = service.scan(path, "OP-B", options=ScanOptions(limits=limits or ExtractionLimits()))
    return service, list(cases.store.results(outcome.exhibit.exhibit_id))


def test_zip_bomb_and_traversal_names_are_recorded(tmp_path: Path) -> None:
    root = tmp_path / "exhibit"
    root.mkdir()
    picture = encode(synthetic_photo(11, 96, 72))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("../../etc/escape.jpg", picture)
        archive.writestr("/abs/name.jpg", picture)
        archive.writestr("bomb.bin", bytes(8 * 1024 * 1024))
    (root / "bundle.zip").write_bytes(buffer.getvalue())
    (root / "after.jpg").write_bytes(picture)
    lists = FakeLists()
    lists.bad[hashlib.sha256(picture).hexdigest()] = "VIC-11"
    limits = ExtractionLimits(max_ratio=50, ratio_floor_bytes=1024 * 1024)
    _, results = _scan(root, lists, limits)
    paths = [r.path for r in results]
    assert all(".." not in p.split("/") for p in paths)
    assert "exhibit/after.jpg" in paths  # the scan went on after the archive
    inside = [r for r in results if r.path.startswith("exhibit/bundle.zip/")]
    assert sum(r.status is FileStatus.KNOWN_BAD for r in inside) == 2
    bomb = [r for r in inside if "bomb" in r.path]
    assert len(bomb) == 1
    assert bomb[0].status is FileStatus.ERROR
    assert bomb[0].error


@pytest.mark.forensics
def test_e01_is_verified_and_a_truncated_one_is_reported(tmp_path: Path) -> None:
    picture = encode(synthetic_photo(12, 96, 72))
    raw = build_fat_disk(
        tmp_path / "disk.raw", {"DCIM/A.JPG": picture, "NOTE.TXT": b"hello"}, {}, tmp_path
    )
    e01 = make_e01(raw, tmp_path / "good")
    lists = FakeLists()
    service, results = _scan(e01, lists)
    (exhibit,) = service._store.exhibits(1)
    assert exhibit.acquisition_verified is True
    assert exhibit.acquisition_hash == "md5:" + hashlib.md5(raw.read_bytes()).hexdigest()
    assert any(
        r.path.endswith("DCIM/A.JPG") and r.status is FileStatus.UNKNOWN_IMAGE for r in results
    )
    actions = [e.action for e in service._store.audit_events()]
    assert "exhibit.acquisition-checked" in actions

    truncated = tmp_path / "cut.E01"
    data = e01.read_bytes()
    truncated.write_bytes(data[: len(data) * 2 // 3])
    service, results = _scan(truncated, lists)
    (exhibit,) = service._store.exhibits(1)
    assert exhibit.acquisition_verified is not True
    assert any(r.status is FileStatus.ERROR and r.error for r in results)
    assert service._store.runs(exhibit.exhibit_id)[-1].finished_at is not None
