"""Videos in a scan: sampled frames are PDQ-matched and the frame time of a match is kept.

The "listed" picture is a benign generated stand-in (`synthetic_photo(32)`); the known-bad
list holds only its PDQ hash, so a video is found by its frames, never by its digests.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from safeguard.domain.cases import FileResult, FileStatus
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import PROJECT_VIC, HashEntry, HashList, ListKind, category_for
from safeguard.extraction.registry import open_exhibit
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_bytes
from safeguard.reporting.contract import match_summary, result_record
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.examiner.case_reports import CaseReportService
from safeguard.services.examiner.cases import CaseService
from safeguard.services.examiner.triage import ScanOptions, TriageService
from safeguard.services.matching import MatchService
from safeguard.storage.memory_cases import MemoryCaseStore
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.unit.services.video_clips import write_clip

CATEGORY = category_for(PROJECT_VIC, "1")
LISTED_SEED = 32
# The listed picture is on screen from 3.0 s to 5.0 s.
WITH_LISTED = ((31, 3.0), (LISTED_SEED, 2.0), (33, 3.0))
WITHOUT = ((31, 3.0), (34, 2.0), (33, 3.0))


@pytest.fixture(scope="module")
def exhibit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("video-exhibit") / "exhibit"
    listed = write_clip(root / "clips" / "holiday.mp4", WITH_LISTED)
    write_clip(root / "clips" / "garden.mp4", WITHOUT)
    # Named like a document, found as a video by its content; and one inside an archive.
    (root / "docs").mkdir()
    (root / "docs" / "report.doc").write_bytes(listed.read_bytes())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner/holiday-copy.mp4", listed.read_bytes())
    (root / "backup.zip").write_bytes(buffer.getvalue())
    # Truncated to its first kilobyte: the container's index and most frames are missing.
    (root / "clips" / "cut.mp4").write_bytes(listed.read_bytes()[:1024])
    return root


def make_triage(cases: CaseService) -> TriageService:
    lists = MemoryHashListStore()
    pdq = hash_bytes(encode(synthetic_photo(LISTED_SEED, 320, 240)), "x.jpg", HashOptions()).pdq
    assert pdq is not None
    entry = HashEntry("VIC-32", {HashAlgorithm.PDQ: pdq}, category=CATEGORY)
    lists.import_list(HashList("stand-in-bad", ListKind.KNOWN_BAD, version="1"), [entry])
    matcher = MatchService(lists)
    return TriageService(
        cases,
        open_exhibit,
        matcher.match_file_hashes,
        lists.all_lists,
        match_many=matcher.match_many,
    )


def scan(exhibit: Path, options: ScanOptions | None = None) -> tuple[CaseService, int]:
    cases = CaseService(MemoryCaseStore())
    cases.new_case("OP-V", "Examiner V")
    outcome = make_triage(cases).scan(exhibit, "OP-V", options=options)
    return cases, outcome.exhibit.exhibit_id


def results_of(cases: CaseService, exhibit_id: int) -> dict[str, FileResult]:
    return {r.path.split("/", 1)[1]: r for r in cases.store.results(exhibit_id)}


def assert_found_at_listed_time(result: FileResult) -> None:
    assert result.status is FileStatus.KNOWN_BAD
    assert result.category == CATEGORY
    assert result.frame_seconds is not None
    assert 3.0 <= result.frame_seconds < 5.0
    assert result.video_frames
    assert result.video_frames >= 8
    (match,) = result.matches
    assert (match.entry_id, match.algorithm) == ("VIC-32", HashAlgorithm.PDQ)
    assert match.frame_seconds == result.frame_seconds
    assert match.distance <= match.threshold
    assert match.query_quality is not None
    assert match.query_quality >= 50


def test_video_holding_a_listed_picture_is_known_bad_with_its_frame_time(exhibit: Path) -> None:
    cases, exhibit_id = scan(exhibit)
    results = results_of(cases, exhibit_id)
    assert_found_at_listed_time(results["clips/holiday.mp4"])
    assert_found_at_listed_time(results["docs/report.doc"])
    assert_found_at_listed_time(results["backup.zip/inner/holiday-copy.mp4"])
    garden = results["clips/garden.mp4"]
    assert garden.status is FileStatus.UNKNOWN_VIDEO
    assert garden.matches == ()
    assert garden.frame_seconds is None
    assert garden.video_frames
    assert garden.video_frames >= 8


def test_corrupt_video_is_an_error_with_a_reason(exhibit: Path) -> None:
    cases, exhibit_id = scan(exhibit)
    cut = results_of(cases, exhibit_id)["clips/cut.mp4"]
    assert cut.status is FileStatus.ERROR
    assert cut.error is not None
    assert cut.error.startswith("video not decoded: CorruptMediaError")
    assert cut.sha256 is not None  # the digests of what could be read are kept


def test_without_video_sampling_videos_are_hashed_as_plain_files(exhibit: Path) -> None:
    cases, exhibit_id = scan(exhibit, ScanOptions(video_sampling=None))
    results = results_of(cases, exhibit_id)
    assert results["clips/holiday.mp4"].status is FileStatus.UNKNOWN_VIDEO
    assert results["clips/cut.mp4"].status is FileStatus.UNKNOWN_VIDEO


def test_reports_show_the_frame_time(exhibit: Path, tmp_path: Path) -> None:
    cases, exhibit_id = scan(exhibit)
    holiday = results_of(cases, exhibit_id)["clips/holiday.mp4"]
    record = result_record(holiday)
    assert record["frame_seconds"] == holiday.frame_seconds
    matches = record["matches"]
    assert isinstance(matches, Sequence)
    assert json.loads(json.dumps(matches))[0]["frame_seconds"] == holiday.frame_seconds
    assert " at 0:0" in match_summary(holiday)
    reports = CaseReportService(cases, open_exhibit=open_exhibit)
    html = tmp_path / "report.html"
    reports.write("OP-V", "html", html)
    assert "frame at 0:0" in html.read_text(encoding="utf-8")
    csv_path = tmp_path / "report.csv"
    reports.write("OP-V", "csv", csv_path)
    assert "frame_seconds" in csv_path.read_text(encoding="utf-8").splitlines()[0]


def test_demo_video_is_found_by_its_frames(tmp_path: Path) -> None:
    from safeguard.list_formats.registry import detect_reader
    from safeguard.services.demo.exhibit import build_demo_exhibit

    demo = build_demo_exhibit(tmp_path, prefer_disk_image=False)
    bad_list, _ = demo.write_lists(tmp_path / "lists")
    lists = MemoryHashListStore()
    with detect_reader(bad_list).read(bad_list) as parsed:
        lists.import_list(HashList("demo-known-bad", ListKind.KNOWN_BAD), parsed.entries)
    matcher = MatchService(lists)
    cases = CaseService(MemoryCaseStore())
    cases.new_case("DEMO", "Demo")
    triage = TriageService(
        cases,
        open_exhibit,
        matcher.match_file_hashes,
        lists.all_lists,
        match_many=matcher.match_many,
    )
    outcome = triage.scan(demo.path, "DEMO")
    clip = results_of(cases, outcome.exhibit.exhibit_id)["VIDEO/CLIP.MP4"]
    assert clip.status is FileStatus.KNOWN_BAD
    assert clip.frame_seconds is not None
    assert 1.0 <= clip.frame_seconds < 3.0
