"""A small generated exhibit for demos: a FAT disk image with the cases triage must handle.

The image holds folders of pictures, a zip inside a zip, a picture renamed to ``.pdf``, a
deleted picture and a short video that shows one of the known stand-ins from 1 s to 3 s
(found by its frames' PDQ hashes). Every picture is a benign generated stand-in
(`safeguard.services.demo.pictures`); the "known" ones are stand-ins for listed content, and
`DemoExhibit.write_lists` writes lists built from their digests. Without mtools and
mkfs.vfat the same files are written as a folder exhibit (and the deleted picture is left out).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import PROJECT_VIC, HashEntry, Provenance, category_for
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_bytes
from safeguard.list_formats.contract import ListMetadata
from safeguard.list_formats.registry import writer_named
from safeguard.services.demo.pictures import encode, synthetic_photo

_SECTOR = 512
_PARTITION_START = 2048
_DISK_BYTES = 16 * 1024 * 1024
_FAT_TOOLS = ("mkfs.vfat", "mcopy", "mmd", "mdel")


@dataclass(frozen=True, slots=True)
class StandIn:
    """A file of the demo exhibit that a demo list "knows".

    Attributes:
        path: where it is inside the exhibit (container chain included for nested files).
        data: its content.
        note: why it is interesting (renamed, deleted, nested, ...).
    """

    path: str
    data: bytes
    note: str

    @property
    def digests(self) -> dict[HashAlgorithm, str]:
        """MD5, SHA-1 and SHA-256 of the content."""
        return {
            HashAlgorithm.MD5: hashlib.md5(self.data, usedforsecurity=False).hexdigest(),
            HashAlgorithm.SHA1: hashlib.sha1(self.data, usedforsecurity=False).hexdigest(),
            HashAlgorithm.SHA256: hashlib.sha256(self.data).hexdigest(),
        }


@dataclass(frozen=True, slots=True)
class DemoExhibit:
    """The generated exhibit and what the demo lists know about it.

    Attributes:
        path: the disk image (``demo-disk.img``) or, without mtools, the folder.
        disk_image: True for the FAT image, False for the folder fallback.
        known_bad: stand-ins for listed content (one nested, one renamed, one deleted).
        known_good: stand-ins for files a known-good list (e.g. NSRL) would hold.
    """

    path: Path
    disk_image: bool
    known_bad: tuple[StandIn, ...]
    known_good: tuple[StandIn, ...]

    def write_lists(self, folder: Path) -> tuple[Path, Path]:
        """Write the demo lists: known-bad as a VICS 2.0 hash set, known-good as hashdeep.

        Returns:
            The paths of the known-bad and known-good list files.
        """
        folder.mkdir(parents=True, exist_ok=True)
        bad_entries = [
            HashEntry(
                entry_id=str(900 + number),
                digests=_with_pdq(item),
                category=category_for(PROJECT_VIC, "1" if number % 2 else "2"),
                provenance=Provenance(
                    series="DEMO-STAND-IN",
                    first_seen=date(2026, 1, 1),
                    notes="benign generated stand-in, not real listed content",
                ),
                size=len(item.data),
            )
            for number, item in enumerate(self.known_bad, start=1)
        ]
        good_entries = [
            HashEntry(
                entry_id=item.path,
                digests=item.digests,
                file_name=item.path.rsplit("/", 1)[-1],
                size=len(item.data),
            )
            for item in self.known_good
        ]
        bad_path, good_path = (
            folder / "demo-known-bad.vics.json",
            folder / "demo-known-good.hashdeep",
        )
        with bad_path.open("w", encoding="utf-8") as stream:
            writer_named("vics").write(
                bad_entries,
                stream,
                ListMetadata("vics", source="Safeguard demo", version="2026.11"),
            )
        with good_path.open("w", encoding="utf-8") as stream:
            writer_named("hashdeep").write(
                good_entries, stream, ListMetadata("hashdeep", suggested_name="demo-known-good")
            )
        return bad_path, good_path


def _with_pdq(item: StandIn) -> dict[HashAlgorithm, str]:
    """The stand-in's digests plus its PDQ hash, so re-encoded copies are found too."""
    digests = item.digests
    hashes = hash_bytes(item.data, item.path, HashOptions())
    if hashes.pdq is not None:
        digests[HashAlgorithm.PDQ] = hashes.pdq
    return digests


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            # A fixed date keeps the archive bytes, and so its hashes, the same on every run.
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


_VIDEO_RATE = 6


def _video(scenes: tuple[tuple[int, float], ...]) -> bytes:
    """A short MPEG-4 clip showing ``synthetic_photo(seed)`` for ``seconds`` per scene.

    Needs PyAV; empty bytes without it.
    """
    try:
        import av
    except ImportError:  # pragma: no cover - PyAV is in the video extra
        return b""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=_VIDEO_RATE)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        # Enough bits that a frame still looks like its picture (PDQ within the threshold).
        stream.bit_rate = 2_000_000
        for seed, seconds in scenes:
            picture = synthetic_photo(seed, 320, 240)
            for _ in range(round(seconds * _VIDEO_RATE)):
                frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]  # PyAV stubs lack it
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _contents() -> tuple[dict[str, bytes], dict[str, bytes], list[StandIn], list[StandIn]]:
    def photo(seed: int) -> bytes:
        return encode(synthetic_photo(seed, 320, 240))

    files: dict[str, bytes] = {
        "DCIM/100PHOTO/IMG_0001.JPG": photo(201),
        "DCIM/100PHOTO/IMG_0002.JPG": photo(202),
        "DCIM/100PHOTO/IMG_0003.JPG": photo(203),
        "DCIM/100PHOTO/IMG_0004.PNG": encode(synthetic_photo(204, 200, 150), "PNG"),
        "DOCS/TAXES.PDF": photo(205),
        "DOCS/NOTES.TXT": b"shopping: bread, milk\r\n",
        "SYSTEM/DRIVER.SYS": b"MZ" + bytes(range(256)) * 8,
        "DOWNLOAD/BACKUP.ZIP": _zip(
            {
                "readme.txt": b"old photos\n",
                "photos.zip": _zip({"img_0100.jpg": photo(206), "img_0101.jpg": photo(207)}),
            }
        ),
    }
    # The known-bad stand-in IMG_0002.JPG (seed 202) is on screen from 1 s to 3 s.
    clip = _video(((208, 1.0), (202, 2.0), (210, 1.0)))
    if clip:
        files["VIDEO/CLIP.MP4"] = clip
    deleted = {"DCIM/100PHOTO/IMG_0005.JPG": photo(209)}
    known_bad = [
        StandIn("DCIM/100PHOTO/IMG_0002.JPG", files["DCIM/100PHOTO/IMG_0002.JPG"], "in a folder"),
        StandIn("DOCS/TAXES.PDF", files["DOCS/TAXES.PDF"], "a picture renamed to .pdf"),
        StandIn("DOWNLOAD/BACKUP.ZIP/photos.zip/img_0101.jpg", photo(207), "in a zip in a zip"),
        StandIn(
            "DCIM/100PHOTO/IMG_0005.JPG",
            deleted["DCIM/100PHOTO/IMG_0005.JPG"],
            "deleted (FAT keeps the name without its first letter: _MG_0005.JPG)",
        ),
    ]
    known_good = [
        StandIn("SYSTEM/DRIVER.SYS", files["SYSTEM/DRIVER.SYS"], "an operating-system file")
    ]
    return files, deleted, known_bad, known_good


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _fat_image(path: Path, files: dict[str, bytes], deleted: dict[str, bytes]) -> None:
    # An MBR with one FAT16 partition from sector 2048, written without mounting anything.
    sectors = _DISK_BYTES // _SECTOR - _PARTITION_START
    entry = bytes([0x00, 0, 0, 0, 0x06, 0, 0, 0]) + struct.pack("<II", _PARTITION_START, sectors)
    mbr = bytearray(_SECTOR)
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    with path.open("wb") as handle:
        handle.write(bytes(mbr))
        handle.truncate(_DISK_BYTES)
    _run(
        "mkfs.vfat",
        "-F",
        "16",
        "--offset",
        str(_PARTITION_START),
        "-n",
        "DEMO",
        str(path),
        str(sectors // 2),
    )
    target = f"{path}@@{_PARTITION_START * _SECTOR}"
    made: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="safeguard-demo-") as scratch:
        for name, data in {**files, **deleted}.items():
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder not in made:
                    _run("mmd", "-i", target, f"::/{folder}")
                    made.add(folder)
            local = Path(scratch) / name.replace("/", "_")
            local.write_bytes(data)
            _run("mcopy", "-m", "-i", target, str(local), f"::/{name}")
        for name in deleted:
            _run("mdel", "-i", target, f"::/{name}")


def build_demo_exhibit(folder: Path, *, prefer_disk_image: bool = True) -> DemoExhibit:
    """Write the demo exhibit under `folder` and say which files the demo lists know.

    Args:
        folder: where to write ``demo-disk.img`` (or the ``demo-exhibit`` folder).
        prefer_disk_image: build the FAT image when mtools and mkfs.vfat are installed.

    Stand-in paths are relative to the exhibit; a scan reports them behind the exhibit's
    own name (and, for the disk image, its partition).
    """
    folder.mkdir(parents=True, exist_ok=True)
    files, deleted, known_bad, known_good = _contents()
    if prefer_disk_image and all(shutil.which(tool) for tool in _FAT_TOOLS):
        image = folder / "demo-disk.img"
        image.unlink(missing_ok=True)
        _fat_image(image, files, deleted)
        return DemoExhibit(image, True, tuple(known_bad), tuple(known_good))
    root = folder / "demo-exhibit"
    if root.exists():
        shutil.rmtree(root)
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    live = tuple(s for s in known_bad if s.path not in deleted)
    return DemoExhibit(root, False, live, tuple(known_good))
