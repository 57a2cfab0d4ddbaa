import pytest

from safeguard.domain.digests import Digest, HashAlgorithm, hamming_distance
from safeguard.domain.errors import InvalidDigestError
from safeguard.domain.media import MediaKind, sniff_media_type


def test_digest_is_normalised() -> None:
    d = Digest.parse("MD5", "  D41D8CD98F00B204E9800998ECF8427E ")
    assert d == Digest(HashAlgorithm.MD5, "d41d8cd98f00b204e9800998ecf8427e")


@pytest.mark.parametrize("value", ["abc", "z" * 32, "d41d8cd98f00b204e9800998ecf8427e00"])
def test_malformed_digest_is_refused(value: str) -> None:
    with pytest.raises(InvalidDigestError):
        Digest.parse(HashAlgorithm.MD5, value)


def test_hamming_distance() -> None:
    assert hamming_distance("0f" * 32, "00" * 32) == 128


@pytest.mark.parametrize(
    ("header", "mime", "kind"),
    [
        (b"\xff\xd8\xff\xe0", "image/jpeg", MediaKind.IMAGE),
        (b"\x89PNG\r\n\x1a\n", "image/png", MediaKind.IMAGE),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", MediaKind.IMAGE),
        (b"\x00\x00\x00\x1cftypheic", "image/heic", MediaKind.IMAGE),
        (b"\x00\x00\x00\x1cftypavif", "image/avif", MediaKind.IMAGE),
        (b"\x00\x00\x00\x1cftypisom", "video/mp4", MediaKind.VIDEO),
        (b"PK\x03\x04", "application/zip", MediaKind.ARCHIVE),
        (b"hello", "application/octet-stream", MediaKind.OTHER),
    ],
)
def test_sniffing_by_content(header: bytes, mime: str, kind: MediaKind) -> None:
    media = sniff_media_type(header)
    assert (media.mime, media.kind) == (mime, kind)
