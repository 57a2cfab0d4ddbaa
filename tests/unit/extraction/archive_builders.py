"""Builders for benign test archives (synthetic photos stand in for listed content)."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

from safeguard.services.demo.pictures import encode, synthetic_photo


def photo_bytes(seed: int, width: int = 96, height: int = 72) -> bytes:
    """A small benign JPEG standing in for a listed picture."""
    return encode(synthetic_photo(seed, width, height))


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10)), data)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def mark_zip_encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag on every member of a zip (local and central headers)."""
    patched = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := patched.find(signature, start)) >= 0:
            (flags,) = struct.unpack_from("<H", patched, found + flag_offset)
            struct.pack_into("<H", patched, found + flag_offset, flags | 0x1)
            start = found + 4
    return bytes(patched)


def zip_bomb(path: Path, expanded_bytes: int) -> Path:
    """A zip whose single member inflates from a few hundred KB to `expanded_bytes` of zeros.

    Built by streaming deflate output so the expanded content never exists anywhere.
    """
    # A fully flushed deflate block does not depend on what came before, so one compressed
    # megabyte of zeros can be repeated; a final empty block ends the stream.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1024 * 1024)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = expanded_bytes // len(chunk)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    body = block * count + compressor.flush()
    name = b"zeros.bin"
    local = struct.pack(
        "<4sHHHHHIIIHH",
        b"PK\x03\x04",
        20,
        0,
        8,
        0,
        0x21,
        crc,
        len(body),
        expanded_bytes,
        len(name),
        0,
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        0,
        8,
        0,
        0x21,
        crc,
        len(body),
        expanded_bytes,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    central_offset = len(local) + len(name) + len(body)
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), central_offset, 0
    )
    path.write_bytes(local + name + body + central + name + end)
    return path
