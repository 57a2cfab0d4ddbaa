"""Media kinds and content sniffing by magic bytes (never by file name)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SNIFF_BYTES = 64
"""How many leading bytes `sniff_media_type` needs to see."""


class MediaKind(StrEnum):
    """Broad families of content, which decide what is done with a file."""

    IMAGE = "image"
    VIDEO = "video"
    ARCHIVE = "archive"
    DISK_IMAGE = "disk-image"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class MediaType:
    """A detected content type: MIME name and family."""

    mime: str
    kind: MediaKind


OCTET_STREAM = MediaType("application/octet-stream", MediaKind.OTHER)

_ISO_BMFF_BRANDS: dict[bytes, MediaType] = {
    b"heic": MediaType("image/heic", MediaKind.IMAGE),
    b"heix": MediaType("image/heic", MediaKind.IMAGE),
    b"heim": MediaType("image/heic", MediaKind.IMAGE),
    b"heis": MediaType("image/heic", MediaKind.IMAGE),
    b"hevc": MediaType("image/heic-sequence", MediaKind.IMAGE),
    b"mif1": MediaType("image/heif", MediaKind.IMAGE),
    b"msf1": MediaType("image/heif-sequence", MediaKind.IMAGE),
    b"avif": MediaType("image/avif", MediaKind.IMAGE),
    b"avis": MediaType("image/avif", MediaKind.IMAGE),
    b"qt  ": MediaType("video/quicktime", MediaKind.VIDEO),
}


def _sniff_iso_bmff(header: bytes) -> MediaType | None:
    if len(header) < 12 or header[4:8] != b"ftyp":
        return None
    brand = header[8:12]
    if brand in _ISO_BMFF_BRANDS:
        return _ISO_BMFF_BRANDS[brand]
    if brand.startswith(b"3g"):
        return MediaType("video/3gpp", MediaKind.VIDEO)
    return MediaType("video/mp4", MediaKind.VIDEO)


_PREFIXES: tuple[tuple[bytes, MediaType], ...] = (
    (b"\xff\xd8\xff", MediaType("image/jpeg", MediaKind.IMAGE)),
    (b"\x89PNG\r\n\x1a\n", MediaType("image/png", MediaKind.IMAGE)),
    (b"GIF87a", MediaType("image/gif", MediaKind.IMAGE)),
    (b"GIF89a", MediaType("image/gif", MediaKind.IMAGE)),
    (b"BM", MediaType("image/bmp", MediaKind.IMAGE)),
    (b"II*\x00", MediaType("image/tiff", MediaKind.IMAGE)),
    (b"MM\x00*", MediaType("image/tiff", MediaKind.IMAGE)),
    (b"\x1aE\xdf\xa3", MediaType("video/x-matroska", MediaKind.VIDEO)),
    (b"FLV\x01", MediaType("video/x-flv", MediaKind.VIDEO)),
    (b"\x00\x00\x01\xba", MediaType("video/mpeg", MediaKind.VIDEO)),
    (b"PK\x03\x04", MediaType("application/zip", MediaKind.ARCHIVE)),
    (b"PK\x05\x06", MediaType("application/zip", MediaKind.ARCHIVE)),
    (b"7z\xbc\xaf\x27\x1c", MediaType("application/x-7z-compressed", MediaKind.ARCHIVE)),
    (b"Rar!\x1a\x07", MediaType("application/vnd.rar", MediaKind.ARCHIVE)),
    (b"\x1f\x8b", MediaType("application/gzip", MediaKind.ARCHIVE)),
    (b"BZh", MediaType("application/x-bzip2", MediaKind.ARCHIVE)),
    (b"\xfd7zXZ\x00", MediaType("application/x-xz", MediaKind.ARCHIVE)),
    (b"EVF\x09\x0d\x0a\xff\x00", MediaType("application/x-ewf", MediaKind.DISK_IMAGE)),
    (b"EVF2\r\n\x81\x00", MediaType("application/x-ewf2", MediaKind.DISK_IMAGE)),
)


def sniff_media_type(header: bytes) -> MediaType:
    """Identify content from its first `SNIFF_BYTES` bytes.

    Returns `OCTET_STREAM` when nothing is recognised. Raw disk images and tar archives
    have no leading magic; extraction recognises them by structure, not here.
    """
    for prefix, media_type in _PREFIXES:
        if header.startswith(prefix):
            return media_type
    if header[:4] == b"RIFF" and header[8:12] == b"WEBP":
        return MediaType("image/webp", MediaKind.IMAGE)
    if header[:4] == b"RIFF" and header[8:12] == b"AVI ":
        return MediaType("video/x-msvideo", MediaKind.VIDEO)
    if header[:4] == b"\x30\x26\xb2\x75":
        return MediaType("video/x-ms-asf", MediaKind.VIDEO)
    bmff = _sniff_iso_bmff(header)
    if bmff is not None:
        return bmff
    return OCTET_STREAM
