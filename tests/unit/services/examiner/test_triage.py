"""The scan pipeline on memory stores, the real extraction and hashing, and a fake matcher.

Every picture is a generated, benign stand-in; "known" lists are built from their digests.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from safeguard.batch.local_pool import LocalPoolRunner
from safeguard.domain.cases import FileResult, FileStatus
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList, ListKind, category_for
from safeguard.domain.matches import Match
from safeguard.extraction.contract import EvidenceItem, ExtractionLimits
from safeguard.extraction.registry import open_exhibit
from safeguard.services.demo.pictures import encode, synthetic_photo, write_photo
from safeguard.services.examiner.cases import CaseService
from safeguard.services.examiner.exhibit_integrity import manifest_sha256
from safeguard.services.examiner.triage import ScanOptions, ScanProgress, TriageService
from safeguard.storage.memory_cases import MemoryCaseStore
from tests.unit.services.video_clips import write_clip

CATEGORY = category_for("uk-sentencing", "C")


class FakeLists:
    """Known-bad and known-good lists keyed by SHA-256."""

    def __init__(self) -> None:
        self.bad: dict[str, str] = {}
        self.good: dict[str, str] = {}
        self.lists = [
            HashList("stand-in-bad", ListKind.KNOWN_BAD, version="2026.11"),
            HashList("stand-in-good", ListKind.KNOWN_GOOD, version="1"),
        ]

    def all_lists(self) -> list[HashList]:
        return self.lists

    def match(self, fh: FileHashes) -> Sequence[Match]:
        sha = fh.digests.get(HashAlgorithm.SHA256)
        found = []
        if sha in self.bad:
            found.append(
                Match(
                    "stand-in-bad",
                    ListKind.KNOWN_BAD,
                    self.bad[sha],
                    HashAlgorithm.SHA256,
                    list_version="2026.11",
                    category=CATEGORY,
                )
            )
        if sha in self.good:
            found.append(
                Match("stand-in-good", ListKind.KNOWN_GOOD, self.good[sha], HashAlgorithm.SHA256)
            )
        return found


@pytest.fixture
def exhibit(tmp_path: Path) -> Path:
    root = tmp_path / "exhibit"
    write_photo(root / "DCIM" / "a.jpg", seed=1, width=160, height=120)
    write_photo(root / "DCIM" / "b.jpg", seed=2, width=160, height=120)
    # A known picture under an innocent name: identified by content, not by name.
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "notes.txt").write_bytes(encode(synthetic_photo(3, 160, 120)))
    (root / "docs" / "readme.md").write_text("hello\n")
    (root / "docs" / "system.dll").write_bytes(b"MZ" + b"\x00" * 500)
    write_clip(root / "clip.mp4", [(4, 1.0), (5, 1.0)], size=(64, 48))
    # Sniffs as MPEG-4 but holds no video: an error with its reason, never "unknown-video".
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200)
    (root / "empty.bin").write_bytes(b"")
    return root


@pytest.fixture
def lists() -> FakeLists:
    fake = FakeLists()
    fake.bad[hashlib.sha256(encode(synthetic_photo(3, 160, 120))).hexdigest()] = "VIC-3"
    fake.good[hashlib.sha256(b"MZ" + b"\x00" * 500).hexdigest()] = "NSRL-1"
    return fake


def make_service(
    lists: FakeLists, store: MemoryCaseStore | None = None, opener=open_exhibit, runner=None
) -> TriageService:  # type: ignore[no-untyped-def]
    cases = CaseService(store or MemoryCaseStore())
    return TriageService(cases, opener, lists.match, lists.all_lists, runner_factory=runner)


def by_path(results: Sequence[FileResult]) -> dict[str, FileResult]:
    return {r.path.split("/", 1)[1]: r for r in results}


def test_scan_gives_each_file_a_status(exhibit: Path, lists: FakeLists) -> None:
    service = make_service(lists)
    service._cases.new_case("OP-1", "Examiner A")
    events: list[ScanProgress] = []
    outcome = service.scan(exhibit, "OP-1", options=ScanOptions(), on_progress=events.append)
    results = by_path(list(service._store.results(outcome.exhibit.exhibit_id)))
    assert results["DCIM/a.jpg"].status is FileStatus.UNKNOWN_IMAGE
    assert results["DCIM/a.jpg"].pdq is not None
    known = results["docs/notes.txt"]
    assert known.status is FileStatus.KNOWN_BAD
    assert known.category == CATEGORY
    assert known.matches[0].entry_id == "VIC-3"
    assert results["docs/system.dll"].status is FileStatus.KNOWN_GOOD
    assert results["docs/readme.md"].status is FileStatus.OTHER
    assert results["clip.mp4"].status is FileStatus.UNKNOWN_VIDEO
    assert results["clip.mp4"].video_frames
    assert results["broken.mp4"].status is FileStatus.ERROR
    assert "video not decoded" in (results["broken.mp4"].error or "")
    assert results["empty.bin"].status in (FileStatus.OTHER, FileStatus.ERROR)
    assert outcome.recorded == 8
    assert outcome.counts[FileStatus.KNOWN_BAD] == 1
    assert [e.event for e in events if e.event == "hit"] == ["hit"]
    assert events[0].event == "started"
    assert events[-1].event == "finished"
    assert events[-1].files == 8
    assert outcome.exhibit.manifest_sha256 == manifest_sha256(
        service._store.results(outcome.exhibit.exhibit_id)
    )
    actions = [e.action for e in service._store.audit_events()]
    assert actions == ["case.created", "scan.started", "scan.completed"]
    run = service._store.runs(outcome.exhibit.exhibit_id)[0]
    assert [lv.name for lv in run.lists] == ["stand-in-bad", "stand-in-good"]
    assert run.finished_at is not None


def test_list_selection_limits_matches(exhibit: Path, lists: FakeLists) -> None:
    service = make_service(lists)
    service._cases.new_case("OP-1", "A")
    outcome = service.scan(exhibit, "OP-1", options=ScanOptions(lists=("stand-in-good",)))
    results = by_path(list(service._store.results(outcome.exhibit.exhibit_id)))
    assert results["docs/notes.txt"].status is FileStatus.UNKNOWN_IMAGE
    assert results["docs/system.dll"].status is FileStatus.KNOWN_GOOD


def test_unknown_list_name_is_refused(exhibit: Path, lists: FakeLists) -> None:
    from safeguard.domain.errors import NotFoundError

    service = make_service(lists)
    service._cases.new_case("OP-1", "A")
    with pytest.raises(NotFoundError):
        service.scan(exhibit, "OP-1", options=ScanOptions(lists=("nope",)))


class SimulatedCrashError(Exception):
    pass


def test_interrupted_scan_resumes_to_the_same_results(exhibit: Path, lists: FakeLists) -> None:
    for i in range(40):
        write_photo(exhibit / "more" / f"{i:03d}.png", seed=100 + i, width=64, height=48, fmt="PNG")
    reference = make_service(lists)
    reference._cases.new_case("OP-1", "A")
    whole = reference.scan(exhibit, "OP-1", options=ScanOptions(batch_files=5))
    expected = list(reference._store.results(whole.exhibit.exhibit_id))

    def dies_after(count: int):  # type: ignore[no-untyped-def]
        def opener(path: Path, limits: ExtractionLimits) -> Iterator[EvidenceItem]:
            for n, item in enumerate(open_exhibit(path, limits)):
                if n == count:
                    raise SimulatedCrashError
                yield item

        return opener

    store = MemoryCaseStore()
    broken = make_service(lists, store, opener=dies_after(23))
    broken._cases.new_case("OP-1", "A")
    with pytest.raises(SimulatedCrashError):
        broken.scan(exhibit, "OP-1", options=ScanOptions(batch_files=5, batch_seconds=60))
    exhibit_id = store.exhibits(1)[0].exhibit_id
    committed = len(store.recorded_paths(exhibit_id))
    assert 0 < committed <= 23
    resumed = make_service(lists, store).scan(exhibit, "OP-1", options=ScanOptions(batch_files=5))
    assert resumed.skipped == committed
    assert resumed.recorded == len(expected) - committed
    got = list(store.results(exhibit_id))

    def key(r: FileResult) -> tuple[object, ...]:
        return (r.path, r.status, r.md5, r.sha1, r.sha256, r.pdq, r.category, r.matches)

    assert [key(r) for r in got] == [key(r) for r in expected]
    assert resumed.exhibit.manifest_sha256 == whole.exhibit.manifest_sha256
    runs = store.runs(exhibit_id)
    assert [r.finished_at is not None for r in runs] == [False, True]


def test_worker_pool_gives_the_same_results(exhibit: Path, lists: FakeLists) -> None:
    single = make_service(lists)
    single._cases.new_case("OP-1", "A")
    one = single.scan(exhibit, "OP-1")
    pooled = make_service(lists, runner=lambda n: LocalPoolRunner(n))
    pooled._cases.new_case("OP-1", "A")
    two = pooled.scan(exhibit, "OP-1", options=ScanOptions(workers=2))
    assert list(single._store.results(one.exhibit.exhibit_id)) == list(
        pooled._store.results(two.exhibit.exhibit_id)
    )


def test_image_file_exhibit_records_its_sha256(tmp_path: Path, lists: FakeLists) -> None:
    picture = write_photo(tmp_path / "single.jpg", seed=9, width=64, height=64)
    service = make_service(lists)
    service._cases.new_case("OP-1", "A")
    outcome = service.scan(picture, "OP-1", exhibit_reference="JB/1")
    assert outcome.exhibit.reference == "JB/1"
    assert (
        outcome.exhibit.acquisition_hash
        == "sha256:" + hashlib.sha256(picture.read_bytes()).hexdigest()
    )


def test_bad_archive_is_recorded_and_the_scan_goes_on(exhibit: Path, lists: FakeLists) -> None:
    (exhibit / "broken.zip").write_bytes(b"PK\x03\x04" + b"\x13" * 300)
    service = make_service(lists)
    service._cases.new_case("OP-1", "A")
    outcome = service.scan(exhibit, "OP-1")
    results = by_path(list(service._store.results(outcome.exhibit.exhibit_id)))
    assert "DCIM/a.jpg" in results
    broken = [r for p, r in results.items() if p.startswith("broken.zip")]
    assert broken
    assert any(r.status is FileStatus.ERROR and r.error for r in broken)


def test_batch_matcher_is_called_once_per_committed_batch(exhibit: Path, lists: FakeLists) -> None:
    calls: list[int] = []

    def match_many(hashes: Sequence[FileHashes]) -> list[Sequence[Match]]:
        calls.append(len(hashes))
        return [lists.match(fh) for fh in hashes]

    cases = CaseService(MemoryCaseStore())
    cases.new_case("OP-1", "A")
    service = TriageService(
        cases, open_exhibit, lists.match, lists.all_lists, match_many=match_many
    )
    outcome = service.scan(exhibit, "OP-1", options=ScanOptions(batch_files=3, batch_seconds=60))
    assert outcome.counts[FileStatus.KNOWN_BAD] == 1
    assert outcome.counts[FileStatus.KNOWN_GOOD] == 1
    # Every file at most once, plus the clip's distinct frames (two scenes, sampled 1/s).
    assert sum(calls) <= 8 + 3
    assert max(calls) <= 3 + 3
    assert len(calls) >= 3


def test_files_keep_being_hashed_while_the_list_index_loads(
    exhibit: Path, lists: FakeLists
) -> None:
    from safeguard.services.examiner.triage_files import HashJob, ScannedFile, hash_job

    total = sum(1 for p in exhibit.rglob("*") if p.is_file())
    hashed: list[str] = []
    all_hashed = threading.Event()

    def counting_hash(job: HashJob) -> ScannedFile:
        hashed.append(job.path)
        if len(hashed) == total:
            all_hashed.set()
        return hash_job(job)

    loaded_after_hashing: list[bool] = []

    def slow_index_load() -> None:
        # Returns once every file is hashed: a scan that waited for the index would stall.
        loaded_after_hashing.append(all_hashed.wait(timeout=20))

    cases = CaseService(MemoryCaseStore())
    cases.new_case("OP-1", "A")
    service = TriageService(
        cases,
        open_exhibit,
        lists.match,
        lists.all_lists,
        hash_function=counting_hash,
        prepare_matcher=slow_index_load,
    )
    outcome = service.scan(exhibit, "OP-1", options=ScanOptions(batch_files=50, batch_seconds=0))
    assert loaded_after_hashing == [True]
    assert outcome.recorded == total
    assert outcome.counts[FileStatus.KNOWN_BAD] == 1
