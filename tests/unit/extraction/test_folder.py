from __future__ import annotations

import os
from pathlib import Path

import pytest

from safeguard.domain.errors import EvidenceError
from safeguard.extraction.contract import ExhibitKind
from safeguard.extraction.registry import detect_exhibit_kind, open_exhibit
from tests.unit.extraction.archive_builders import photo_bytes, write_zip
from tests.unit.extraction.exhibit_walk import md5_of, walk


@pytest.fixture
def exhibit(tmp_path: Path) -> Path:
    root = tmp_path / "exhibit"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a.jpg").write_bytes(photo_bytes(21))
    (root / "b" / "deep" / "c.txt").write_bytes(b"text")
    (root / "z.zip").touch()
    write_zip(root / "z.zip", {"in.jpg": photo_bytes(22)})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(photo_bytes(23))
    (root / "link_to_outside").symlink_to(outside)
    (root / "link_file").symlink_to(outside / "secret.jpg")
    os.mkfifo(root / "pipe")
    return root


def test_folder_walk_is_ordered_and_complete(exhibit: Path) -> None:
    assert detect_exhibit_kind(exhibit) is ExhibitKind.FOLDER
    items, digests = walk(exhibit)
    assert list(items) == [
        "exhibit/a.jpg",
        "exhibit/b/deep/c.txt",
        "exhibit/link_file",
        "exhibit/link_to_outside",
        "exhibit/pipe",
        "exhibit/z.zip",
        "exhibit/z.zip/in.jpg",
    ]
    assert digests["exhibit/a.jpg"] == md5_of(photo_bytes(21))
    assert digests["exhibit/z.zip/in.jpg"] == md5_of(photo_bytes(22))
    first = items["exhibit/a.jpg"]
    assert first.local_path == exhibit / "a.jpg"
    assert first.file.modified is not None
    assert first.file.modified.tzinfo is not None


def test_links_are_recorded_never_followed(exhibit: Path) -> None:
    items, digests = walk(exhibit)
    link = items["exhibit/link_file"]
    assert link.file.link_target is not None
    assert link.file.link_target.endswith("secret.jpg")
    assert not link.readable
    assert md5_of(photo_bytes(23)) not in digests.values()
    assert not [path for path in items if "secret" in path]


def test_fifo_is_recorded_not_opened(exhibit: Path) -> None:
    items, _ = walk(exhibit)
    pipe = items["exhibit/pipe"]
    assert not pipe.readable
    assert "fifo" in (pipe.error or "")


def test_reading_does_not_modify_evidence(exhibit: Path) -> None:
    before = {
        p: (p.stat().st_mtime_ns, p.stat().st_atime_ns, p.stat().st_size)
        for p in exhibit.rglob("*")
        if p.is_file() and not p.is_symlink()
    }
    walk(exhibit)
    after = {
        p: (p.stat().st_mtime_ns, p.stat().st_atime_ns, p.stat().st_size)
        for p in exhibit.rglob("*")
        if p.is_file() and not p.is_symlink()
    }
    assert before == after


def test_single_file_and_missing_exhibit(tmp_path: Path) -> None:
    photo = tmp_path / "one.jpg"
    photo.write_bytes(photo_bytes(24))
    assert detect_exhibit_kind(photo) is ExhibitKind.FILE
    items, digests = walk(photo)
    assert list(items) == ["one.jpg"]
    assert digests["one.jpg"] == md5_of(photo_bytes(24))
    with pytest.raises(EvidenceError):
        open_exhibit(tmp_path / "missing")
