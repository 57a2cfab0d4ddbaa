from __future__ import annotations

import io
import tarfile
import time
import zlib
from pathlib import Path

import py7zr
import pytest

from safeguard.extraction.archive_guards import member_path
from safeguard.extraction.contract import ExtractionLimits
from tests.unit.extraction.archive_builders import (
    mark_zip_encrypted,
    photo_bytes,
    tar_bytes,
    write_zip,
    zip_bomb,
    zip_bytes,
)
from tests.unit.extraction.exhibit_walk import md5_of, walk


def test_zip_members_keep_path_size_and_times(tmp_path: Path) -> None:
    photo = photo_bytes(1)
    write_zip(tmp_path / "ex.zip", {"pics/a.jpg": photo, "notes.txt": b"hello"})
    items, digests = walk(tmp_path / "ex.zip")
    assert list(items) == ["ex.zip", "ex.zip/pics/a.jpg", "ex.zip/notes.txt"]
    member = items["ex.zip/pics/a.jpg"]
    assert member.size == len(photo)
    assert digests[member.path] == md5_of(photo)
    assert member.file.modified is not None
    assert member.file.modified.tzinfo is not None
    assert member.file.local_times
    assert member.depth == 1
    assert items["ex.zip"].local_path == tmp_path / "ex.zip"


def test_nested_zip_inside_tar_gz_is_expanded_with_container_chain(tmp_path: Path) -> None:
    photo = photo_bytes(2)
    inner = zip_bytes({"b.jpg": photo})
    (tmp_path / "outer.tar.gz").write_bytes(tar_bytes({"dir/a.zip": inner, "c.txt": b"x"}))
    items, digests = walk(tmp_path / "outer.tar.gz")
    assert "outer.tar.gz/dir/a.zip" in items
    nested = items["outer.tar.gz/dir/a.zip/b.jpg"]
    assert nested.depth == 2
    assert digests[nested.path] == md5_of(photo)
    assert items["outer.tar.gz/c.txt"].file.modified is not None


def test_depth_limit_stops_expansion_and_says_so(tmp_path: Path) -> None:
    level3 = zip_bytes({"deep.jpg": photo_bytes(3)})
    level2 = zip_bytes({"l3.zip": level3})
    write_zip(tmp_path / "l1.zip", {"l2.zip": level2})
    items = walk(tmp_path / "l1.zip", ExtractionLimits(max_depth=2))[0]
    assert "l1.zip/l2.zip/l3.zip" in items
    assert "l1.zip/l2.zip/l3.zip/deep.jpg" not in items
    assert "depth limit" in (items["l1.zip/l2.zip/l3.zip"].error or "")
    # the unexpanded archive is still readable, so it still gets hashed
    assert items["l1.zip/l2.zip/l3.zip"].readable
    deeper = walk(tmp_path / "l1.zip", ExtractionLimits(max_depth=3))[0]
    assert "l1.zip/l2.zip/l3.zip/deep.jpg" in deeper


def test_zip_bomb_stops_at_limit_quickly(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.zip", 300 * 1024 * 1024)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    started = time.perf_counter()
    items = walk(bomb)[0]
    elapsed = time.perf_counter() - started
    member = items["bomb.zip/zeros.bin"]
    assert member.error is not None
    assert "ratio" in member.error
    assert not member.readable
    assert elapsed < 2.0


def test_zip_bomb_within_ratio_but_over_size_limit(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.zip", 16 * 1024 * 1024)
    limits = ExtractionLimits(max_ratio=10_000, max_expanded_bytes=8 * 1024 * 1024)
    member = walk(bomb, limits)[0]["bomb.zip/zeros.bin"]
    assert "expanded size limit" in (member.error or "")


def test_tar_gz_bomb_stops_without_decompressing_everything(tmp_path: Path) -> None:
    data = tar_bytes({"a.txt": b"first", "zeros.bin": bytes(64 * 1024 * 1024), "z.txt": b"last"})
    (tmp_path / "bomb.tgz").write_bytes(data)
    items = walk(tmp_path / "bomb.tgz")[0]
    assert items["bomb.tgz/a.txt"].error is None
    assert "rest of the archive not read" in (items["bomb.tgz/zeros.bin"].error or "")
    assert "bomb.tgz/z.txt" not in items


@pytest.mark.parametrize("name", ["../../etc/evil.jpg", "/abs/evil.jpg", "C:\\win\\evil.jpg"])
def test_traversal_names_are_contained_and_reported_in_zip(tmp_path: Path, name: str) -> None:
    photo = photo_bytes(4)
    write_zip(tmp_path / "t.zip", {name: photo})
    items, digests = walk(tmp_path / "t.zip")
    members = [item for item in items.values() if item.path != "t.zip"]
    assert len(members) == 1
    member = members[0]
    assert member.path.startswith("t.zip/")
    assert ".." not in member.path.split("/")
    assert member.path.endswith("evil.jpg")
    assert member.file.original_name == name
    assert "traversal" in (member.error or "")
    assert digests[member.path] == md5_of(photo)


def test_traversal_names_are_contained_in_tar(tmp_path: Path) -> None:
    (tmp_path / "t.tar").write_bytes(tar_bytes({"../up/x.jpg": photo_bytes(5)}, mode="w"))
    items = walk(tmp_path / "t.tar")[0]
    member = items["t.tar/up/x.jpg"]
    assert member.file.original_name == "../up/x.jpg"
    assert "traversal" in (member.error or "")


def test_encrypted_zip_member_is_flagged_not_skipped(tmp_path: Path) -> None:
    data = mark_zip_encrypted(zip_bytes({"secret.jpg": photo_bytes(6)}))
    (tmp_path / "enc.zip").write_bytes(data)
    member = walk(tmp_path / "enc.zip")[0]["enc.zip/secret.jpg"]
    assert member.file.encrypted
    assert "encrypted" in (member.error or "")
    assert not member.readable


def test_7z_members_and_encrypted_7z(tmp_path: Path) -> None:
    photo = photo_bytes(7)
    with py7zr.SevenZipFile(tmp_path / "plain.7z", "w") as archive:
        archive.writestr(photo, "in/p.jpg")
        archive.writestr(b"text", "t.txt")
    items, digests = walk(tmp_path / "plain.7z")
    assert digests["plain.7z/in/p.jpg"] == md5_of(photo)
    assert items["plain.7z/t.txt"].size == 4

    with py7zr.SevenZipFile(tmp_path / "enc.7z", "w", password="pw") as archive:
        archive.writestr(photo, "p.jpg")
    member = walk(tmp_path / "enc.7z")[0]["enc.7z/p.jpg"]
    assert member.file.encrypted
    assert not member.readable

    with py7zr.SevenZipFile(
        tmp_path / "hdr.7z", "w", password="pw", header_encryption=True
    ) as archive:
        archive.writestr(photo, "p.jpg")
    inside = walk(tmp_path / "hdr.7z")[0]["hdr.7z/"]
    assert inside.file.encrypted
    assert "headers encrypted" in (inside.error or "")


def test_corrupt_containers_become_error_items(tmp_path: Path) -> None:
    good_zip = zip_bytes({"a.jpg": photo_bytes(8, 400, 300)})
    good_tgz = tar_bytes({"a.jpg": photo_bytes(8, 400, 300), "b.jpg": photo_bytes(9, 400, 300)})
    (tmp_path / "cut.zip").write_bytes(good_zip[: len(good_zip) // 2])
    (tmp_path / "fake.rar").write_bytes(b"Rar!\x1a\x07\x00" + bytes(100))
    (tmp_path / "cut.tgz").write_bytes(good_tgz[: len(good_tgz) // 2])
    for name in ("cut.zip", "fake.rar", "cut.tgz"):
        items, digests = walk(tmp_path / name)
        paths = list(items)
        assert paths[0] == name
        problems = [path for path in paths[1:] if items[path].error]
        problems += [path for path, digest in digests.items() if digest.startswith("error")]
        assert problems, name


def test_single_gzip_file_is_one_member(tmp_path: Path) -> None:
    import gzip

    photo = photo_bytes(9)
    (tmp_path / "p.jpg.gz").write_bytes(gzip.compress(photo))
    items, digests = walk(tmp_path / "p.jpg.gz")
    member = items["p.jpg.gz/p.jpg"]
    assert member.size == len(photo)
    assert digests[member.path] == md5_of(photo)


def test_duplicate_member_names_get_unique_paths(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "dup.tar", "w") as archive:
        for content in (b"1", b"2"):
            info = tarfile.TarInfo("a.jpg")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    _, digests = walk(tmp_path / "dup.tar")
    assert digests["dup.tar/a.jpg"] == md5_of(b"1")
    assert digests["dup.tar/a.jpg (#2)"] == md5_of(b"2")


@pytest.mark.parametrize(
    ("name", "expected", "unsafe"),
    [
        ("a/b.jpg", "x/a/b.jpg", False),
        ("./a//b.jpg", "x/a/b.jpg", False),
        ("..\\..\\b.jpg", "x/b.jpg", True),
        ("/etc/b.jpg", "x/etc/b.jpg", True),
        ("D:/b.jpg", "x/b.jpg", True),
        ("..", "x/(unnamed)", True),
    ],
)
def test_member_path_normalisation(name: str, expected: str, unsafe: bool) -> None:
    path, original, error = member_path("x", name)
    assert path == expected
    assert (error is not None) is unsafe
    assert original == (None if path == f"x/{name}" else name)


def test_gzip_bomb_stops_while_reading(tmp_path: Path) -> None:
    # gzip records no trustworthy size up front: the bound is enforced on bytes actually read
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = compressor.compress(bytes(64 * 1024 * 1024)) + compressor.flush()
    (tmp_path / "z.bin.gz").write_bytes(body)
    items, digests = walk(tmp_path / "z.bin.gz")
    assert "z.bin.gz/z.bin" in items
    assert digests["z.bin.gz/z.bin"].startswith("error")
    assert "ratio" in digests["z.bin.gz/z.bin"]


def test_member_count_limit_reports_the_rest_once(tmp_path: Path) -> None:
    write_zip(tmp_path / "many.zip", {f"{n}.txt": b"x" for n in range(10)})
    items, _ = walk(tmp_path / "many.zip", ExtractionLimits(max_members=3))
    assert len([path for path in items if path.endswith(".txt")]) == 3
    assert "7 entries not read" in (items["many.zip/"].error or "")
