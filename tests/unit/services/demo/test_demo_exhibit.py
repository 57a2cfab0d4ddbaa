from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from safeguard.domain.cases import FileStatus
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList, ListKind
from safeguard.domain.matches import Match
from safeguard.extraction.registry import open_exhibit
from safeguard.list_formats.registry import detect_reader
from safeguard.services.demo.exhibit import DemoExhibit, build_demo_exhibit
from safeguard.services.examiner.cases import CaseService
from safeguard.services.examiner.triage import TriageService
from safeguard.storage.memory_cases import MemoryCaseStore
from tests.conftest import require_tool


def _scan(demo: DemoExhibit) -> dict[str, FileStatus]:
    bad = {s.digests[HashAlgorithm.SHA256] for s in demo.known_bad}
    good = {s.digests[HashAlgorithm.SHA256] for s in demo.known_good}

    def match(fh: FileHashes) -> list[Match]:
        sha = fh.digests.get(HashAlgorithm.SHA256)
        if sha in bad:
            return [Match("demo-bad", ListKind.KNOWN_BAD, "x", HashAlgorithm.SHA256)]
        if sha in good:
            return [Match("demo-good", ListKind.KNOWN_GOOD, "y", HashAlgorithm.SHA256)]
        return []

    lists = [HashList("demo-bad", ListKind.KNOWN_BAD), HashList("demo-good", ListKind.KNOWN_GOOD)]
    cases = CaseService(MemoryCaseStore())
    cases.new_case("DEMO", "Demo")
    outcome = TriageService(cases, open_exhibit, match, lambda: lists).scan(demo.path, "DEMO")
    return {r.path: r.status for r in cases.store.results(outcome.exhibit.exhibit_id)}


def test_folder_fallback_holds_the_live_stand_ins(tmp_path: Path) -> None:
    demo = build_demo_exhibit(tmp_path, prefer_disk_image=False)
    assert not demo.disk_image
    assert demo.path.is_dir()
    statuses = _scan(demo)
    bad = sorted(p for p, s in statuses.items() if s is FileStatus.KNOWN_BAD)
    assert [p.split("/", 1)[1] for p in bad] == sorted(s.path for s in demo.known_bad)
    assert FileStatus.UNKNOWN_VIDEO in statuses.values()
    assert FileStatus.KNOWN_GOOD in statuses.values()


@pytest.mark.forensics
def test_disk_image_finds_nested_renamed_and_deleted_stand_ins(tmp_path: Path) -> None:
    for tool in ("mkfs.vfat", "mcopy", "mmd", "mdel"):  # dosfstools, mtools
        require_tool(tool)
    demo = build_demo_exhibit(tmp_path)
    assert demo.disk_image
    statuses = _scan(demo)
    bad = [p for p, s in statuses.items() if s is FileStatus.KNOWN_BAD]
    assert len(bad) == 4
    assert any(p.endswith("photos.zip/img_0101.jpg") for p in bad)
    assert any(p.endswith("DOCS/TAXES.PDF") for p in bad)
    assert any(p.endswith("_MG_0005.JPG") for p in bad)


def test_written_lists_read_back(tmp_path: Path) -> None:
    demo = build_demo_exhibit(tmp_path, prefer_disk_image=False)
    bad, good = demo.write_lists(tmp_path / "lists")
    with detect_reader(bad).read(bad) as parsed:
        entries = list(parsed.entries)
    assert {e.digests[HashAlgorithm.MD5] for e in entries} == {
        hashlib.md5(s.data).hexdigest() for s in demo.known_bad
    }
    assert all(e.category.scheme == "project-vic" for e in entries)
    with detect_reader(good).read(good) as parsed:
        assert len(list(parsed.entries)) == 1
