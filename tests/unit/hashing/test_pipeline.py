from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from safeguard.domain.digests import HashAlgorithm, hamming_distance
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pdq import DIHEDRAL_ORDER
from safeguard.hashing.pipeline import hash_bytes, hash_file, hash_stream
from tests import media_factories as media

FORMATS = sorted(media.WRITERS)


def reference_pdq(path: Path) -> tuple[str, int]:
    """pdqhash on Pillow's full-size RGB pixels of the first frame: the oracle."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    bits, quality = pdqhash.compute(pixels)
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), quality


def hashlib_digests(data: bytes) -> dict[HashAlgorithm, str]:
    return {
        HashAlgorithm.MD5: hashlib.md5(data).hexdigest(),
        HashAlgorithm.SHA1: hashlib.sha1(data).hexdigest(),
        HashAlgorithm.SHA256: hashlib.sha256(data).hexdigest(),
    }


@pytest.mark.parametrize("mime", FORMATS)
def test_every_format_is_recognised_and_hashed_exactly_in_reference_mode(
    tmp_path: Path, mime: str
) -> None:
    # A misleading name proves sniffing is by content.
    path = media.write_image(tmp_path, mime, seed=11)
    disguised = path.rename(tmp_path / "renamed.txt")

    result = hash_file(disguised, HashOptions(pdq_mode="reference"))

    assert result.error is None
    assert result.media_type == mime
    assert result.size == disguised.stat().st_size
    assert result.digests == hashlib_digests(disguised.read_bytes())
    assert (result.pdq, result.pdq_quality) == reference_pdq(disguised)
    assert result.pdq_fit_for_matching


@pytest.mark.parametrize("mime", FORMATS)
def test_fast_mode_equals_reference_below_the_reduction_size(tmp_path: Path, mime: str) -> None:
    path = media.write_image(tmp_path, mime, seed=5)
    fast = hash_file(path, HashOptions(pdq_mode="fast"))
    assert (fast.pdq, fast.pdq_quality) == reference_pdq(path)


def test_fast_mode_on_large_jpeg_stays_within_tolerance(tmp_path: Path) -> None:
    path = media.write_jpeg(tmp_path / "big.jpg", seed=3, width=2048, height=1536)
    fast = hash_file(path, HashOptions(pdq_mode="fast"))
    reference = hash_file(path, HashOptions(pdq_mode="reference"))
    assert reference.pdq == reference_pdq(path)[0]
    assert fast.pdq is not None
    assert reference.pdq is not None
    assert hamming_distance(fast.pdq, reference.pdq) <= 10
    assert fast.digests == reference.digests


@pytest.mark.parametrize("mime", ["image/gif", "image/tiff"])
def test_multi_frame_images_hash_the_first_frame(tmp_path: Path, mime: str) -> None:
    path = media.write_image(tmp_path, mime, seed=20)
    with Image.open(path) as image:
        assert getattr(image, "n_frames", 1) == 3
        first = np.asarray(image.convert("RGB"))
    first_bits, _ = pdqhash.compute(first)
    expected = np.packbits(np.asarray(first_bits, dtype=np.uint8)).tobytes().hex()
    assert hash_file(path, HashOptions()).pdq == expected


def test_exif_orientation_is_not_applied(tmp_path: Path) -> None:
    image = media.photo(seed=8, width=320, height=240)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    image.save(path, format="JPEG", quality=90, exif=exif.tobytes())
    assert hash_file(path, HashOptions(pdq_mode="reference")).pdq == reference_pdq(path)[0]


def test_dihedral_variants_follow_pdqhash_order(tmp_path: Path) -> None:
    path = media.write_png(tmp_path / "a.png", seed=4)
    result = hash_file(path, HashOptions(dihedral=True))
    with Image.open(path) as image:
        vectors, quality = pdqhash.compute_dihedral(np.asarray(image.convert("RGB")))
    expected = [np.packbits(np.asarray(v, dtype=np.uint8)).tobytes().hex() for v in vectors]
    assert len(DIHEDRAL_ORDER) == 8
    assert result.pdq == expected[0]
    assert list(result.pdq_variants) == expected[1:]
    assert result.pdq_quality == quality


def test_non_image_gets_digests_only(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    data = b"just some text, not a picture\n" * 1000
    path.write_bytes(data)
    result = hash_file(path, HashOptions())
    assert result.error is None
    assert result.media_type == "application/octet-stream"
    assert result.pdq is None
    assert result.digests == hashlib_digests(data)


def test_text_starting_with_bm_is_not_reported_as_a_corrupt_bitmap(tmp_path: Path) -> None:
    path = tmp_path / "memo.txt"
    path.write_bytes(b"BM notes: " + b"x" * 100)
    result = hash_file(path, HashOptions())
    assert result.error is None
    assert result.media_type == "application/octet-stream"


def test_large_non_image_streams_in_small_chunks(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    result = hash_file(path, HashOptions(chunk_size=64 * 1024))
    assert result.size == len(data)
    assert result.digests == hashlib_digests(data)


def test_algorithms_can_be_chosen(tmp_path: Path) -> None:
    path = media.write_jpeg(tmp_path / "a.jpg")
    only_sha1 = hash_file(path, HashOptions(algorithms=frozenset({HashAlgorithm.SHA1})))
    assert set(only_sha1.digests) == {HashAlgorithm.SHA1}
    assert only_sha1.pdq is None
    assert only_sha1.media_type == "image/jpeg"
    pdq_only = hash_file(path, HashOptions(algorithms=frozenset({HashAlgorithm.PDQ})))
    assert pdq_only.digests == {}
    assert pdq_only.pdq is not None


def test_display_path_is_recorded(tmp_path: Path) -> None:
    path = media.write_png(tmp_path / "a.png")
    assert hash_file(path, HashOptions(), display_path="exhibit/a.png").path == "exhibit/a.png"


def test_stream_and_bytes_agree_with_file(tmp_path: Path) -> None:
    path = media.write_jpeg(tmp_path / "a.jpg", seed=9, width=1400, height=1100)
    data = path.read_bytes()
    from_file = hash_file(path, HashOptions(), display_path="x")
    from_stream = hash_stream(io.BytesIO(data), "x", HashOptions(chunk_size=4096))
    from_bytes = hash_bytes(data, "x", HashOptions())
    assert from_file == from_stream == from_bytes


class TrickleStream(io.RawIOBase):
    """A stream that returns at most 5 bytes per read and has no readinto: worst case."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(5, size) if size >= 0 else 5)


def test_stream_with_short_reads_and_no_readinto(tmp_path: Path) -> None:
    path = media.write_png(tmp_path / "a.png", seed=2, width=64, height=48)
    data = path.read_bytes()
    stream = TrickleStream(data)
    stream.readinto = None  # type: ignore[assignment,method-assign]
    result = hash_stream(stream, "a.png", HashOptions())  # type: ignore[arg-type]
    assert result == hash_bytes(data, "a.png", HashOptions())
    assert result.pdq is not None


def test_low_quality_pdq_is_kept_but_flagged(tmp_path: Path) -> None:
    path = tmp_path / "flat.png"
    Image.new("RGB", (200, 200), (120, 120, 120)).save(path)
    result = hash_file(path, HashOptions())
    assert result.pdq is not None
    assert result.pdq_quality is not None
    assert result.pdq_quality < 50
    assert not result.pdq_fit_for_matching
    assert result.as_record()["pdq_fit_for_matching"] is False


def test_quality_floor_is_configurable(tmp_path: Path) -> None:
    path = media.write_png(tmp_path / "a.png")
    result = hash_file(path, HashOptions(pdq_quality_floor=100))
    assert result.pdq_quality is not None
    assert result.pdq_fit_for_matching is (result.pdq_quality >= 100)


# Bad input: each case gives an error record and never raises.


def test_truncated_jpeg_keeps_digests(tmp_path: Path) -> None:
    path = media.truncated_jpeg(tmp_path / "cut.jpg")
    result = hash_file(path, HashOptions())
    assert result.error is not None
    assert result.error.startswith("CorruptMediaError")
    assert "truncated" in result.error
    assert result.digests == hashlib_digests(path.read_bytes())
    assert result.pdq is None
    assert result.media_type == "image/jpeg"


def test_garbage_with_jpeg_magic(tmp_path: Path) -> None:
    path = media.garbage_with_jpeg_magic(tmp_path / "junk.jpg")
    result = hash_file(path, HashOptions())
    assert result.error is not None
    assert result.error.startswith("CorruptMediaError")
    assert result.digests == hashlib_digests(path.read_bytes())


def test_pixel_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = media.write_png(tmp_path / "bomb.png", width=400, height=300)
    result = hash_file(path, HashOptions(max_image_pixels=100_000))
    assert result.error is not None
    assert result.error.startswith("MediaTooLargeError")
    assert "120,000 pixels" in result.error
    assert result.digests == hashlib_digests(path.read_bytes())
    assert result.pdq is None


def test_pillow_bomb_guard_is_reported_not_raised(tmp_path: Path) -> None:
    # A PNG header declaring 100000 x 100000 pixels: over Pillow's own hard limit too.
    path = media.write_png(tmp_path / "a.png", width=8, height=8)
    data = bytearray(path.read_bytes())
    data[16:24] = (100_000).to_bytes(4, "big") * 2
    path.write_bytes(bytes(data))
    result = hash_file(path, HashOptions(max_image_pixels=10**12))
    assert result.error is not None
    assert result.error.startswith(("MediaTooLargeError", "CorruptMediaError"))


def test_image_over_the_byte_limit_is_digested_only(tmp_path: Path) -> None:
    path = media.write_png(tmp_path / "a.png", width=200, height=200)
    result = hash_stream(
        io.BytesIO(path.read_bytes()), "a.png", HashOptions(max_image_bytes=1000, chunk_size=256)
    )
    assert result.error is not None
    assert result.error.startswith("MediaTooLargeError")
    assert result.digests == hashlib_digests(path.read_bytes())


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    result = hash_file(path, HashOptions())
    assert result.size == 0
    assert result.error == "EmptyFileError: file is empty (0 bytes)"


def test_broken_symlink_is_unreadable(tmp_path: Path) -> None:
    link = tmp_path / "gone.jpg"
    link.symlink_to(tmp_path / "missing.jpg")
    result = hash_file(link, HashOptions())
    assert result.size is None
    assert result.digests == {}
    assert result.error is not None
    assert result.error.startswith("UnreadableFileError")


def test_directory_is_not_a_regular_file(tmp_path: Path) -> None:
    result = hash_file(tmp_path, HashOptions())
    assert result.error == "UnreadableFileError: not a regular file"


def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert hash_file(fifo, HashOptions()).error == "UnreadableFileError: not a regular file"


def test_read_error_midway_is_unreadable(tmp_path: Path) -> None:
    class FailingStream(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            self.calls += 1
            if self.calls > 1:
                raise OSError(5, "Input/output error")
            buffer[:100] = b"\xff\xd8\xff" + b"\x00" * 97
            return 100

    result = hash_stream(FailingStream(), "bad-sector.jpg", HashOptions())
    assert result.error == "UnreadableFileError: read failed: Input/output error"
    assert result.digests == {}


def test_evidence_is_not_modified(tmp_path: Path) -> None:
    path = media.write_jpeg(tmp_path / "a.jpg")
    before = path.stat()
    hash_file(path, HashOptions())
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


@pytest.mark.parametrize("magic", [b"", b"\xff\xd8\xff\xe0"], ids=["data", "jpeg-magic"])
def test_memory_stays_flat_whatever_the_size(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as handle:  # sparse: 48 MiB that cost no disk
        handle.write(magic)
        handle.truncate(48 * 1024 * 1024)
    options = HashOptions(max_image_bytes=2 * 1024 * 1024)
    tracemalloc.start()
    try:
        result = hash_file(path, options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == 48 * 1024 * 1024
    assert peak < 5 * 1024 * 1024
    if magic:
        assert result.error is not None
        assert result.error.startswith("MediaTooLargeError")
