"""Evidence that cannot lie: damaged E01 chunks, split raw hashes, access times, truncated sets.

Every exhibit is built here with the Debian tools (no mounting) and then damaged by
overwriting bytes in its files, as a failing disk or a bad copy would.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import pytest

from safeguard.domain.cases import Exhibit, FileResult, FileStatus
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.examiner.exhibit_integrity import check_acquisition
from tests.integration.disk_image_builders import (
    build_fat_disk,
    build_ntfs,
    make_e01,
    split_raw,
)
from tests.integration.test_scan_bad_evidence import _scan
from tests.unit.services.examiner.test_triage import FakeLists

pytestmark = pytest.mark.forensics

CHUNK = 32 * 1024


@pytest.fixture(scope="module")
def picture() -> bytes:
    return encode(synthetic_photo(21, 1024, 768))  # spans several 32 KiB chunks


@pytest.fixture(scope="module")
def fat_raw(tmp_path_factory: pytest.TempPathFactory, picture: bytes) -> Path:
    scratch = tmp_path_factory.mktemp("fat")
    return build_fat_disk(
        scratch / "disk.raw", {"NOTE.TXT": b"hello", "DCIM/A.JPG": picture}, {}, scratch
    )


def _known(picture: bytes) -> FakeLists:
    lists = FakeLists()
    lists.bad[hashlib.sha256(picture).hexdigest()] = "VIC-21"
    return lists


def _segments(first: Path) -> list[Path]:
    return sorted(first.parent.glob(first.stem + ".E0*"))


def _damage_chunk_of(first: Path, media_offset: int) -> int:
    """Overwrite 4 bytes in the middle of the stored chunk holding `media_offset`."""
    from safeguard.extraction.ewf_chunks import open_chunk_table

    segments = _segments(first)
    descriptors = [os.open(segment, os.O_RDONLY) for segment in segments]
    try:
        table = open_chunk_table(descriptors, [s.name for s in segments], CHUNK, 16 * 1024 * 1024)
        assert table is not None
        index = media_offset // CHUNK
        stored = table.chunks[index]
    finally:
        for descriptor in descriptors:
            os.close(descriptor)
    target = segments[stored.segment]
    data = bytearray(target.read_bytes())
    middle = stored.offset + stored.size // 2
    data[middle : middle + 4] = bytes(255 - b for b in data[middle : middle + 4])
    target.write_bytes(bytes(data))
    return index


def _damage_stored_bytes(first: Path, needle: bytes, index: int) -> int:
    """Uncompressed chunks hold the media bytes as they are: find `needle` and flip 4 bytes."""
    for segment in _segments(first):
        data = bytearray(segment.read_bytes())
        at = data.find(needle)
        if at >= 0:
            data[at : at + 4] = bytes(255 - b for b in data[at : at + 4])
            segment.write_bytes(bytes(data))
            return index
    raise AssertionError("picture bytes not found in any segment")


def _by_path(results: list[FileResult], suffix: str) -> FileResult:
    (found,) = [r for r in results if r.path.endswith(suffix)]
    return found


@pytest.mark.parametrize("segment_size", [None, "4MiB"], ids=["deflate", "uncompressed-segments"])
def test_file_on_a_damaged_e01_chunk_is_an_error_naming_the_chunk(
    fat_raw: Path, picture: bytes, tmp_path: Path, segment_size: str | None
) -> None:
    e01 = make_e01(fat_raw, tmp_path / "exhibit", segment_size=segment_size)
    _clean_service, clean = _scan(e01, _known(picture))
    assert _by_path(clean, "DCIM/A.JPG").status is FileStatus.KNOWN_BAD

    # The picture's last chunk: far from the FAT and directories, so only the file is hit.
    end = fat_raw.read_bytes().index(picture[:4096]) + len(picture)
    if segment_size is None:
        index = _damage_chunk_of(e01, end - 100)  # compressed: located through the chunk table
    else:
        index = _damage_stored_bytes(e01, picture[-300:-200], (end - 250) // CHUNK)
    service, results = _scan(e01, _known(picture))
    damaged = _by_path(results, "DCIM/A.JPG")
    assert damaged.status is FileStatus.ERROR
    assert damaged.error is not None
    assert f"EWF chunk {index} " in damaged.error
    assert damaged.sha256 is None  # never hashed from damaged bytes
    assert _by_path(results, "NOTE.TXT").status is not FileStatus.ERROR
    (exhibit,) = service._store.exhibits(1)
    assert exhibit.acquisition_verified is False
    assert exhibit.acquisition_status is not None
    assert exhibit.acquisition_status.startswith("damaged:")
    assert f"EWF chunk {index} " in exhibit.acquisition_status

    from safeguard.services.examiner.case_reports import CaseReportService

    page = CaseReportService(service._cases).write("OP-B", "html", tmp_path / "r.html").read_text()
    row = page[page.index("DCIM/A.JPG") :]
    row = row[: row.index("</tr>")]
    assert f"EWF chunk {index} " in row  # the reason stands next to the file


def test_split_raw_acquisition_hash_covers_every_segment(fat_raw: Path, tmp_path: Path) -> None:
    segments = split_raw(fat_raw, tmp_path / "disk", pieces=3)
    check = check_acquisition(segments[0])
    assert check.acquisition_hash == "sha256:" + hashlib.sha256(fat_raw.read_bytes()).hexdigest()
    assert check.segments == ("disk.001", "disk.002", "disk.003")

    service, _ = _scan(segments[0], FakeLists())
    (exhibit,) = service._store.exhibits(1)
    assert exhibit.acquisition_segments == ("disk.001", "disk.002", "disk.003")
    before = exhibit.acquisition_hash
    last = bytearray(segments[2].read_bytes())
    last[-1] ^= 0xFF  # a byte of unallocated space at the very end of the image
    segments[2].write_bytes(bytes(last))
    service, _ = _scan(segments[0], FakeLists())
    (changed,) = service._store.exhibits(1)
    assert changed.acquisition_hash != before


def _age_access_times(paths: list[Path]) -> dict[Path, int]:
    """Set each atime a day before its mtime, so a plain read would update it (relatime)."""
    for path in paths:
        stat = path.stat()
        os.utime(path, ns=(stat.st_mtime_ns - 86_400 * 10**9, stat.st_mtime_ns))
    return {path: path.stat().st_atime_ns for path in paths}


def _assert_scan_keeps_access_times(first: Path, paths: list[Path]) -> None:
    before = _age_access_times(paths)
    probe = paths[0].open("rb")  # the probe itself: a plain open and read does change atime
    probe.read(1)
    probe.close()
    assert paths[0].stat().st_atime_ns != before[paths[0]], "file system does not record atime"
    before = _age_access_times(paths)
    _scan(first, FakeLists())
    assert {path: path.stat().st_atime_ns for path in paths} == before


def test_scanning_raw_split_ntfs_and_e01_leaves_access_times(
    fat_raw: Path, picture: bytes, tmp_path: Path
) -> None:
    raw = tmp_path / "raw" / "disk.img"
    raw.parent.mkdir()
    raw.write_bytes(fat_raw.read_bytes())
    _assert_scan_keeps_access_times(raw, [raw])

    pieces = split_raw(fat_raw, tmp_path / "split", pieces=3)
    _assert_scan_keeps_access_times(pieces[0], pieces)

    ntfs = build_ntfs(tmp_path / "ntfs.img", {"photo.jpg": picture}, set(), tmp_path)
    _assert_scan_keeps_access_times(ntfs, [ntfs])

    (tmp_path / "ewf").mkdir()
    e01 = make_e01(fat_raw, tmp_path / "ewf" / "set", segment_size="4MiB")
    _assert_scan_keeps_access_times(e01, _segments(e01))


def _exhibit(path: Path) -> tuple[Exhibit, list[FileResult]]:
    service, results = _scan(path, FakeLists())
    (exhibit,) = service._store.exhibits(1)
    return exhibit, results


def test_truncated_e01_says_what_is_wrong(fat_raw: Path, tmp_path: Path) -> None:
    e01 = make_e01(fat_raw, tmp_path / "whole")
    cut = tmp_path / "cut.E01"
    data = e01.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    exhibit, results = _exhibit(cut)
    assert exhibit.acquisition_verified is False
    assert exhibit.acquisition_status is not None
    assert exhibit.acquisition_status.startswith("unreadable:")
    assert "truncated" in exhibit.acquisition_status
    (error,) = [r for r in results if r.status is FileStatus.ERROR]
    assert error.error is not None
    assert "truncated" in error.error


def test_chunk_table_reads_what_ewfacquirestream_wrote(fat_raw: Path, tmp_path: Path) -> None:
    from safeguard.extraction.ewf_chunks import open_chunk_table

    e01 = make_e01(fat_raw, tmp_path / "t", segment_size="4MiB")
    segments = _segments(e01)
    descriptors = [os.open(segment, os.O_RDONLY) for segment in segments]
    try:
        table = open_chunk_table(descriptors, [s.name for s in segments], CHUNK, 16 * 1024 * 1024)
        assert table is not None
        assert len(table.chunks) == table.chunk_count == 512
        assert all(table.check(index) is None for index in range(table.chunk_count))
        assert not table.table_errors
        first = table.chunks[0]
        stored = os.pread(descriptors[first.segment], CHUNK, first.offset)
        assert stored == fat_raw.read_bytes()[:CHUNK]
        assert struct.unpack_from("<I", os.pread(descriptors[0], 4, first.offset + CHUNK))[0]
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def test_truncated_e01_is_explained_in_terminal_json_and_html(
    fat_raw: Path, tmp_path: Path, isolated_env: Path
) -> None:
    from typer.testing import CliRunner

    from safeguard.cli.app import _register, app

    _register()
    e01 = make_e01(fat_raw, tmp_path / "whole")
    cut = tmp_path / "cut.E01"
    data = e01.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    cli = CliRunner()
    assert cli.invoke(app, ["case", "new", "--number", "OP-T", "--examiner", "E"]).exit_code == 0
    scanned = cli.invoke(app, ["scan", str(cut), "--case", "OP-T"])
    assert scanned.exit_code == 0, scanned.output
    assert "error cut.E01/: EWF set unreadable: truncated" in scanned.output
    assert "NOT VERIFIED (unreadable: truncated" in scanned.output

    as_json = tmp_path / "report.json"
    assert (
        cli.invoke(app, ["report", "OP-T", "--format", "json", "-o", str(as_json)]).exit_code == 0
    )
    (section,) = json.loads(as_json.read_text())["exhibits"]
    assert section["acquisition_verified"] is False
    assert section["acquisition_status"].startswith("unreadable: truncated")

    as_html = tmp_path / "report.html"
    assert cli.invoke(app, ["report", "OP-T", "-o", str(as_html)]).exit_code == 0
    page = as_html.read_text()
    assert "folder exhibit" not in page
    assert "image-file" in page
    assert "NO: unreadable: truncated" in page
