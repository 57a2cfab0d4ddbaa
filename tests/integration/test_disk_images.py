"""Disk images built by the Debian tools (FAT behind an MBR, NTFS, E01, split raw)."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pytest

from safeguard.domain.errors import EvidenceError
from safeguard.extraction.contract import ExhibitKind
from safeguard.extraction.disk_images import walk_stream
from safeguard.extraction.ewf import AcquisitionHashStatus, read_ewf_metadata, verify_ewf
from safeguard.extraction.registry import detect_exhibit_kind
from tests.integration.disk_image_builders import (
    build_fat_disk,
    build_ntfs,
    make_e01,
    require_tools,
    split_raw,
    write_mbr,
)
from tests.unit.extraction.archive_builders import photo_bytes, tar_bytes, zip_bytes
from tests.unit.extraction.exhibit_walk import md5_of, walk

pytestmark = pytest.mark.forensics

PHOTO = photo_bytes(11, 200, 150)
RENAMED = photo_bytes(12, 160, 120)
GONE = photo_bytes(13, 300, 200)
NESTED = photo_bytes(14, 120, 90)
IN_DELETED = photo_bytes(15, 120, 90)
PART = "disk.img/partition 1"


@pytest.fixture(scope="module")
def fat_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fat")
    scratch = folder / "scratch"
    scratch.mkdir()
    inner_zip = zip_bytes({"b.jpg": NESTED})
    files = {
        "Users/x/photo.jpg": PHOTO,
        "Users/x/notes.txt": RENAMED,  # a JPEG renamed to hide it
        "Users/x/backup.tgz": tar_bytes({"a.zip": inner_zip}),
        "readme.txt": b"benign test disk\n",
    }
    deleted = {"Users/x/gone.jpg": GONE, "Users/x/old.zip": zip_bytes({"in.jpg": IN_DELETED})}
    return build_fat_disk(folder / "disk.img", files, deleted, scratch)


def test_fat_behind_mbr_files_with_paths_sizes_and_hashes(fat_disk: Path) -> None:
    assert detect_exhibit_kind(fat_disk) is ExhibitKind.RAW_DISK
    items, digests = walk(fat_disk)
    photo = items[f"{PART}/Users/x/photo.jpg"]
    assert photo.size == len(PHOTO)
    assert not photo.deleted
    assert digests[photo.path] == md5_of(PHOTO)
    assert photo.file.modified is not None
    assert photo.file.modified.tzinfo is not None
    assert photo.file.local_times
    assert digests[f"{PART}/Users/x/notes.txt"] == md5_of(RENAMED)
    assert digests[f"{PART}/readme.txt"] == md5_of(b"benign test disk\n")
    # the volume label and TSK's virtual files are not files
    assert not [path for path in items if "$FAT" in path or "Volume Label" in path]


def test_fat_nested_archive_inside_disk_image(fat_disk: Path) -> None:
    items, digests = walk(fat_disk)
    nested = f"{PART}/Users/x/backup.tgz/a.zip/b.jpg"
    assert digests[nested] == md5_of(NESTED)
    assert items[nested].depth == 2
    assert f"{PART}/Users/x/backup.tgz/a.zip" in items


def test_fat_deleted_file_is_flagged_and_readable(fat_disk: Path) -> None:
    items, digests = walk(fat_disk)
    deleted = [path for path, item in items.items() if item.deleted and path.endswith(".jpg")]
    gone = [path for path in deleted if path.lower().endswith("one.jpg")]
    assert len(gone) == 1
    path = gone[0]
    # FAT overwrites the first character of a deleted short name; TSK shows it as "_"
    assert path.startswith(f"{PART}/Users/x/")
    assert items[path].size == len(GONE)
    assert digests[path] == md5_of(GONE)


def test_fat_members_of_a_deleted_archive_are_deleted(fat_disk: Path) -> None:
    items, digests = walk(fat_disk)
    inside = [path for path in items if path.endswith("ld.zip/in.jpg")]
    assert len(inside) == 1
    assert items[inside[0]].deleted
    assert digests[inside[0]] == md5_of(IN_DELETED)
    live = [item for path, item in items.items() if path.endswith("backup.tgz/a.zip/b.jpg")]
    assert not live[0].deleted


def test_fat32_with_deleted_file(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    image = build_fat_disk(
        tmp_path / "fat32.img",
        {"DCIM/keep.jpg": PHOTO},
        {"DCIM/gone.jpg": GONE},
        scratch,
        size=40 * 1024 * 1024,
        fat_bits=32,
    )
    items, digests = walk(image)
    assert digests["fat32.img/partition 1/DCIM/keep.jpg"] == md5_of(PHOTO)
    deleted = [path for path, item in items.items() if item.deleted]
    assert len(deleted) == 1
    assert digests[deleted[0]] == md5_of(GONE)


def test_split_raw_reads_like_the_whole_image(fat_disk: Path, tmp_path: Path) -> None:
    segments = split_raw(fat_disk, tmp_path / "disk")
    assert detect_exhibit_kind(segments[0]) is ExhibitKind.SPLIT_RAW
    items, digests = walk(segments[0])
    assert digests["disk.001/partition 1/Users/x/photo.jpg"] == md5_of(PHOTO)
    assert any(item.deleted for item in items.values())


def test_e01_files_and_verified_acquisition_hash(fat_disk: Path, tmp_path: Path) -> None:
    e01 = make_e01(fat_disk, tmp_path / "disk")
    assert detect_exhibit_kind(e01) is ExhibitKind.EWF
    items, digests = walk(e01)
    assert digests["disk.E01/partition 1/Users/x/photo.jpg"] == md5_of(PHOTO)
    assert digests["disk.E01/partition 1/Users/x/backup.tgz/a.zip/b.jpg"] == md5_of(NESTED)
    assert any(item.deleted for item in items.values())

    metadata = read_ewf_metadata(e01)
    raw = fat_disk.read_bytes()
    assert metadata.stored_md5 == hashlib.md5(raw).hexdigest()
    assert metadata.stored_sha1 == hashlib.sha1(raw).hexdigest()
    assert metadata.headers["case_number"] == "CASE-1"
    assert metadata.media_size == len(raw)
    result = verify_ewf(e01)
    assert result.status is AcquisitionHashStatus.VERIFIED
    assert result.computed_md5 == metadata.stored_md5


def test_e01_in_segments_and_a_missing_segment(fat_disk: Path, tmp_path: Path) -> None:
    e01 = make_e01(fat_disk, tmp_path / "seg", segment_size="4MiB")
    segments = sorted(tmp_path.glob("seg.E*"))
    assert len(segments) >= 4
    _, digests = walk(e01)
    assert digests["seg.E01/partition 1/Users/x/photo.jpg"] == md5_of(PHOTO)
    assert verify_ewf(e01).status is AcquisitionHashStatus.VERIFIED
    segments[-1].unlink()
    items, digests = walk(e01)
    # files in the segments still there are read; the loss is reported on the image
    assert digests["seg.E01/partition 1/Users/x/photo.jpg"] == md5_of(PHOTO)
    assert "unreadable region" in (items["seg.E01/"].error or "")
    missing = verify_ewf(e01)
    assert missing.status is AcquisitionHashStatus.UNREADABLE
    assert "segment(s) missing" in (missing.error or "")


def test_truncated_e01_gives_error_not_exception(fat_disk: Path, tmp_path: Path) -> None:
    e01 = make_e01(fat_disk, tmp_path / "full")
    cut = tmp_path / "cut.E01"
    data = e01.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    items, _ = walk(cut)
    assert list(items) == ["cut.E01/"]
    assert "truncated" in (items["cut.E01/"].error or "")
    result = verify_ewf(cut)
    assert result.status is AcquisitionHashStatus.UNREADABLE
    assert result.error


def test_corrupt_file_system_behind_mbr_is_reported(tmp_path: Path) -> None:
    image = tmp_path / "junk.img"
    write_mbr(image, 4 * 1024 * 1024)
    data = bytearray(image.read_bytes())
    seed = hashlib.sha256(b"junk").digest()
    for offset in range(1024 * 1024, len(data), 32):
        data[offset : offset + 32] = seed
    image.write_bytes(bytes(data))
    items, _ = walk(image)
    assert list(items) == ["junk.img/partition 1/"]
    assert "not recognised or corrupt" in (items["junk.img/partition 1/"].error or "")


def test_unreadable_sectors_fail_only_the_file_on_them(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    big = hashlib.sha256(b"seed").digest() * 10_000
    image = build_fat_disk(tmp_path / "cut.img", {"a.txt": b"small", "big.bin": big}, {}, scratch)
    data = image.read_bytes()
    boot = 2048 * 512
    reserved = int.from_bytes(data[boot + 14 : boot + 16], "little")
    fats, root_entries = data[boot + 16], int.from_bytes(data[boot + 17 : boot + 19], "little")
    fat_sectors = int.from_bytes(data[boot + 22 : boot + 24], "little")
    data_start = boot + (reserved + fats * fat_sectors) * 512 + root_entries * 32
    image.write_bytes(data[: data_start + 64 * 1024])  # the media ends inside big.bin
    items, digests = walk(image)
    assert digests["cut.img/partition 1/a.txt"] == md5_of(b"small")
    assert digests["cut.img/partition 1/big.bin"].startswith("error")
    assert items["cut.img/partition 1/big.bin"].size == len(big)


def test_ntfs_files_and_simulated_deletion(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    image = build_ntfs(
        tmp_path / "ntfs.img", {"photo.jpg": PHOTO, "gone.jpg": GONE}, {"gone.jpg"}, scratch
    )
    assert detect_exhibit_kind(image) is ExhibitKind.RAW_DISK
    items, digests = walk(image)
    photo = items["ntfs.img/photo.jpg"]
    assert not photo.deleted
    assert digests[photo.path] == md5_of(PHOTO)
    assert photo.file.modified is not None
    assert not photo.file.local_times
    gone = [item for item in items.values() if item.deleted and item.path.endswith("gone.jpg")]
    assert gone
    assert all(digests[item.path] == md5_of(GONE) for item in gone)
    assert not [path for path in items if path.startswith("ntfs.img/$MFT")]


def test_ext4_files_and_symlink(tmp_path: Path) -> None:
    require_tools("mkfs.ext4")
    source = tmp_path / "root"
    (source / "d").mkdir(parents=True)
    (source / "d" / "photo.jpg").write_bytes(PHOTO)
    (source / "link").symlink_to("d/photo.jpg")
    image = tmp_path / "ext.img"
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(source), str(image), "4M"],
        check=True,
        capture_output=True,
    )
    items, digests = walk(image)
    assert digests["ext.img/d/photo.jpg"] == md5_of(PHOTO)
    assert items["ext.img/link"].file.link_target == "d/photo.jpg"
    assert not items["ext.img/link"].readable


class _BadSectorStream(io.BytesIO):
    """A disk whose bytes in [start, end) cannot be read, like a failing sector."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        super().__init__(data)
        self._bad = (start, end)

    def read(self, size: int | None = -1) -> bytes:
        position = self.tell()
        data = super().read(size)
        if position < self._bad[1] and position + len(data) > self._bad[0]:
            raise OSError(5, "Input/output error")
        return data


def test_bad_sector_fails_only_the_file_on_it(fat_disk: Path) -> None:
    data = fat_disk.read_bytes()
    start = data.find(PHOTO[:4096])
    assert start > 0
    stream = _BadSectorStream(data, start + 512, start + 1024)
    items = {}
    digests = {}
    for item in walk_stream(stream, len(data), "disk.img"):
        items[item.path] = item
        if item.readable:
            try:
                with item.open() as content:
                    digests[item.path] = md5_of(content.read())
            except EvidenceError as exc:
                digests[item.path] = f"error: {exc}"
    assert digests[f"{PART}/Users/x/photo.jpg"].startswith("error")
    assert digests[f"{PART}/Users/x/notes.txt"] == md5_of(RENAMED)
    assert "disk.img/" not in items  # no metadata was lost, so no summary error
