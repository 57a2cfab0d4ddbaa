"""Build small benign disk images with the Debian tools, without mounting anything.

FAT: an MBR written here, ``mkfs.vfat --offset``, then mtools (``mmd``/``mcopy``/``mdel``) on
``image@@offset``. NTFS: ``mkntfs`` on a file and ``ntfscp``; ntfs-3g has no tool that deletes a
file without mounting, so a deletion is simulated by clearing the in-use flag of the file's
MFT record (what a delete does to the record; the directory index entry stays, as it can in
practice until the index is rewritten). E01: ``ewfacquirestream`` reading the raw image.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from tests.conftest import require_tool

SECTOR = 512
PARTITION_START = 2048


def require_tools(*names: str) -> None:
    """Every tool of `names` on the PATH; else skip, or fail under CI (`require_tool`)."""
    for name in names:
        require_tool(name)


def _run(*args: str, stdin: Path | None = None) -> None:
    if stdin is None:
        subprocess.run(args, check=True, capture_output=True)
        return
    with stdin.open("rb") as handle:
        subprocess.run(args, check=True, capture_output=True, stdin=handle)


def write_mbr(path: Path, size: int, partition_type: int = 0x06) -> int:
    """Create a zeroed image of `size` bytes with one MBR partition from sector 2048."""
    count = size // SECTOR - PARTITION_START
    entry = bytes([0x00, 0, 0, 0, partition_type, 0, 0, 0]) + struct.pack(
        "<II", PARTITION_START, count
    )
    mbr = bytearray(SECTOR)
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    with path.open("wb") as handle:
        handle.write(bytes(mbr))
        handle.truncate(size)
    return PARTITION_START * SECTOR


def build_fat_disk(
    path: Path,
    files: dict[str, bytes],
    deleted: dict[str, bytes],
    scratch: Path,
    size: int = 16 * 1024 * 1024,
    fat_bits: int = 16,
) -> Path:
    """A FAT partition behind an MBR holding `files`; `deleted` are copied in, then deleted.

    FAT32 needs at least about 33 MiB (65,525 clusters of one sector).
    """
    require_tools("mkfs.vfat", "mcopy", "mmd", "mdel")
    offset = write_mbr(path, size, partition_type=0x0C if fat_bits == 32 else 0x06)
    sectors = size // SECTOR - PARTITION_START
    cluster = ["-s", "1"] if fat_bits == 32 else []
    fat = ["-F", str(fat_bits), *cluster, "--offset", str(PARTITION_START), "-n", "EXHIBIT"]
    _run("mkfs.vfat", *fat, str(path), str(sectors // 2))
    target = f"{path}@@{offset}"
    made: set[str] = set()
    for name, data in {**files, **deleted}.items():
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in made:
                _run("mmd", "-i", target, f"::/{folder}")
                made.add(folder)
        local = scratch / name.replace("/", "_")
        local.write_bytes(data)
        _run("mcopy", "-i", target, str(local), f"::/{name}")
    for name in deleted:
        _run("mdel", "-i", target, f"::/{name}")
    return path


def build_ntfs(path: Path, files: dict[str, bytes], deleted: set[str], scratch: Path) -> Path:
    """A bare NTFS file system (no partition table) holding `files` in its root."""
    require_tools("mkntfs", "ntfscp", "ntfsinfo")
    with path.open("wb") as handle:
        handle.truncate(8 * 1024 * 1024)
    _run("mkntfs", "-F", "-Q", "-q", str(path))
    for name, data in files.items():
        local = scratch / name
        local.write_bytes(data)
        _run("ntfscp", "-q", str(path), str(local), name)
    for name in deleted:
        _clear_in_use_flag(path, name)
    return path


def _clear_in_use_flag(path: Path, name: str) -> None:
    info = subprocess.run(
        ["ntfsinfo", "-F", name, str(path)], check=True, capture_output=True, text=True
    ).stdout
    inode = int(info.split("Dumping Inode ", 1)[1].split()[0])
    image = bytearray(path.read_bytes())
    bytes_per_sector = struct.unpack_from("<H", image, 11)[0]
    cluster = bytes_per_sector * image[13]
    mft_cluster = struct.unpack_from("<q", image, 0x30)[0]
    record = mft_cluster * cluster + inode * 1024
    assert image[record : record + 4] == b"FILE"
    image[record + 0x16] &= ~0x01
    path.write_bytes(bytes(image))


def make_e01(raw: Path, stem: Path, segment_size: str | None = None) -> Path:
    """Acquire `raw` into ``stem.E01`` (MD5 and SHA-1 stored), as an examiner would.

    With `segment_size` (e.g. ``"4MiB"``) the set is uncompressed and split into
    ``.E01``, ``.E02``, ... segments of that size.
    """
    require_tools("ewfacquirestream")
    layout = ["-c", "none", "-S", segment_size] if segment_size else ["-c", "deflate:fast"]
    _run(
        "ewfacquirestream",
        "-q",
        "-t",
        str(stem),
        *layout,
        "-d",
        "sha1",
        "-C",
        "CASE-1",
        "-E",
        "EV-7",
        "-e",
        "Examiner",
        "-D",
        "synthetic test disk",
        "-N",
        "benign",
        stdin=raw,
    )
    return stem.with_name(stem.name + ".E01")


def split_raw(raw: Path, stem: Path, pieces: int = 3) -> list[Path]:
    data = raw.read_bytes()
    size = -(-len(data) // pieces)
    segments = []
    for index in range(pieces):
        segment = stem.with_name(f"{stem.name}.{index + 1:03d}")
        segment.write_bytes(data[index * size : (index + 1) * size])
        segments.append(segment)
    return segments
