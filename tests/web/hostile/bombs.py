"""Decompression bombs and other hostile uploads, made on the spot (small, benign bytes).

Each is what the issue measured: a tiny file declaring a huge picture. PNGs are written
whole (zero rows, deflated); WebP and HEIC are small real files whose declared size is
patched in their headers, which is what a decoder trusts before decoding.
"""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    """A complete PNG of zero pixels (filter byte 0 on each row), deflated."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = 1 + (width * channels * bit_depth + 7) // 8
    compressor = zlib.compressobj(9)
    zero_rows = b"\0" * row * 64
    parts = []
    for start in range(0, height, 64):
        parts.append(compressor.compress(zero_rows[: row * min(64, height - start)]))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def png_header_only(width: int, height: int) -> bytes:
    """An 80-byte PNG declaring width x height grey pixels, with almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + _chunk(b"IEND", b"")
    )


def tiff_deflate(side: int) -> bytes:
    """A 1-bit, deflate-compressed TIFF of side x side blank pixels."""
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, "TIFF", compression="tiff_adobe_deflate")
    return buffer.getvalue()


def webp_declaring(side: int) -> bytes:
    """A lossless WebP whose VP8L header declares side x side pixels (data for 16 x 16)."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buffer, "WEBP", lossless=True)
    data = bytearray(buffer.getvalue())
    at = data.index(b"VP8L") + 8  # chunk header, then the 0x2f signature byte
    assert data[at] == 0x2F
    bits = int.from_bytes(data[at + 1 : at + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | (side - 1) | ((side - 1) << 14)
    data[at + 1 : at + 5] = bits.to_bytes(4, "little")
    return bytes(data)


def heic_declaring(side: int) -> bytes:
    """A HEIC whose image-size property ('ispe') declares side x side pixels."""
    heif = pillow_heif.from_pillow(Image.new("RGB", (64, 64), (10, 200, 10)))
    buffer = io.BytesIO()
    heif.save(buffer, quality=50)
    data = bytearray(buffer.getvalue())
    at = data.index(b"ispe") + 8  # box type, then version and flags
    data[at : at + 8] = struct.pack(">II", side, side)
    return bytes(data)


def all_bombs() -> dict[str, bytes]:
    """Every bomb the suite sends, by name."""
    return {
        "png-1x170M-80-bytes": png_header_only(1, 170_000_000),
        "png-13000-1bit": png(13_000, 13_000, 1, 0),
        "png-13000-grey": png(13_000, 13_000, 8, 0),
        "tiff-13000-deflate": tiff_deflate(13_000),
        "webp-12000": webp_declaring(12_000),
        "heic-8000": heic_declaring(8_000),
    }


def rgba_png_bomb() -> bytes:
    """A 13000 x 13000 RGBA PNG of zeros (676 MB raw, about 650 KB); slower to make."""
    return png(13_000, 13_000, 8, 6)
