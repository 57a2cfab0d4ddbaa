from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from safeguard.domain.cases import FileStatus
from safeguard.domain.errors import ConfigurationError, NotFoundError
from safeguard.extraction.registry import open_exhibit
from safeguard.list_formats.hashdeep import HashdeepReader
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.examiner.case_reports import CaseReportService, blurred_thumbnail
from safeguard.services.examiner.cases import CaseService
from safeguard.services.examiner.triage import TriageService
from safeguard.storage.memory_cases import MemoryCaseStore
from tests.unit.reporting.report_parsing import parse_report
from tests.unit.services.examiner.test_triage import FakeLists


@pytest.fixture
def scanned(tmp_path: Path) -> tuple[CaseReportService, Path]:
    root = tmp_path / "exhibit"
    root.mkdir()
    known = encode(synthetic_photo(5, 200, 150))
    (root / "holiday.jpg").write_bytes(known)
    (root / "other.jpg").write_bytes(encode(synthetic_photo(6, 200, 150)))
    (root / "driver.sys").write_bytes(b"\x00driver" * 10)
    (root / "notes.txt").write_text("shopping list\n")
    lists = FakeLists()
    lists.bad[hashlib.sha256(known).hexdigest()] = "VIC-5"
    lists.good[hashlib.sha256(b"\x00driver" * 10).hexdigest()] = "NSRL-9"
    cases = CaseService(MemoryCaseStore())
    cases.new_case("OP-9", "Examiner B")
    TriageService(cases, open_exhibit, lists.match, lists.all_lists).scan(root, "OP-9")
    return CaseReportService(cases, open_exhibit=open_exhibit), tmp_path


def test_report_hides_known_good_but_counts_it(scanned: tuple[CaseReportService, Path]) -> None:
    service, _ = scanned
    report = service.build("OP-9")
    section = report.exhibits[0]
    assert section.counts[FileStatus.KNOWN_GOOD] == 1
    assert section.hidden_known_good == 1
    assert all(r.status is not FileStatus.KNOWN_GOOD for r in section.results)
    assert len(service.build("OP-9", show_known_good=True).exhibits[0].results) == 4
    assert report.counts[FileStatus.KNOWN_BAD] == 1
    assert list(report.category_counts.values()) == [1]


def test_written_html_agrees_with_json_and_is_audited(
    scanned: tuple[CaseReportService, Path],
) -> None:
    service, tmp = scanned
    html = service.write("OP-9", "html", tmp / "r.html")
    js = service.write("OP-9", "json", tmp / "r.json")
    parsed = parse_report(html.read_text(encoding="utf-8"))
    document = json.loads(js.read_text(encoding="utf-8"))
    assert parsed.status_counts == document["counts"]
    assert parsed.images == []
    events = [e for e in service._store.audit_events() if e.action == "report.written"]
    assert [e.detail["format"] for e in events] == ["html", "json"]
    assert events[0].detail["thumbnails"] == "no"


def test_thumbnails_are_small_blurred_and_logged(scanned: tuple[CaseReportService, Path]) -> None:
    service, tmp = scanned
    html = service.write("OP-9", "html", tmp / "t.html", thumbnails=True)
    parsed = parse_report(html.read_text(encoding="utf-8"))
    assert len(parsed.images) == 1  # the known-bad image only
    data = base64.b64decode(parsed.images[0].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as thumb:
        assert max(thumb.size) <= 48
        assert thumb.mode == "L"
    last = service._store.audit_events()[-1]
    assert last.action == "report.written"
    assert last.detail["thumbnails"] == "yes"


def test_blurred_thumbnail_refuses_non_images() -> None:
    assert blurred_thumbnail(b"not an image") is None


def test_hashdeep_manifest_lists_every_file(scanned: tuple[CaseReportService, Path]) -> None:
    service, tmp = scanned
    manifest = service.write("OP-9", "hashdeep", tmp / "m.txt")
    with HashdeepReader().read(manifest) as parsed:
        names = sorted(e.file_name or "" for e in parsed.entries)
    assert names == [
        "exhibit/driver.sys",
        "exhibit/holiday.jpg",
        "exhibit/notes.txt",
        "exhibit/other.jpg",
    ]


def test_vics_case_export_holds_media_with_categories(
    scanned: tuple[CaseReportService, Path],
) -> None:
    service, tmp = scanned
    out = service.write("OP-9", "vics", tmp / "case.json")
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["@odata.context"].endswith("#Cases")
    case = document["value"][0]
    assert case["CaseNumber"] == "OP-9"
    assert len(case["Media"]) == 2  # the two pictures; text and known-good files are not media
    names = sorted(m["MediaFiles"][0]["FileName"] for m in case["Media"])
    assert names == ["holiday.jpg", "other.jpg"]


def test_unknown_format_and_exhibit_are_refused(scanned: tuple[CaseReportService, Path]) -> None:
    service, tmp = scanned
    with pytest.raises(ConfigurationError):
        service.write("OP-9", "pdf", tmp / "x")
    with pytest.raises(NotFoundError):
        service.build("OP-9", exhibit_reference="nope")
    assert (
        service.build("OP-9", exhibit_reference="exhibit").exhibits[0].exhibit.reference
        == "exhibit"
    )
