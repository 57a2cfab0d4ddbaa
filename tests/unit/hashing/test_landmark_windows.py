"""Landmark windows: hashes placed by content, so a crop at any offset is met again."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from safeguard.domain.digests import hamming_distance
from safeguard.hashing.augmentation import augmentation_hashes
from safeguard.hashing.landmark_windows import (
    KEPT_SHARES,
    WINDOW_PIXELS,
    distinct_windows,
    landmark_windows,
    landmarks,
    paired,
)
from safeguard.hashing.pdq import pdq_of_pixels
from safeguard.hashing.recovery import query_hashes
from safeguard.services.demo.pictures import synthetic_photo

THRESHOLD = 31


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return synthetic_photo(5, 640, 480)


@pytest.fixture(scope="module")
def stored(photo: Image.Image) -> dict[str, str]:
    return {a.label: a.pdq for a in augmentation_hashes(np.asarray(photo))}


def _jpeg(image: Image.Image, quality: int = 85) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _closest(query: np.ndarray, stored: dict[str, str]) -> tuple[int, str, str]:
    """(distance, query label, stored label) of the closest pair."""
    return min(
        (hamming_distance(h, s), label, stored_label)
        for label, h in query_hashes(query)
        for stored_label, s in stored.items()
    )


def test_a_bright_blob_is_found_where_it_is() -> None:
    luma = np.zeros((200, 300), np.float32)
    yy, xx = np.mgrid[0:200, 0:300]
    luma += 200 * np.exp(-((xx - 170.3) ** 2 + (yy - 90.6) ** 2) / (2 * 8.0**2))
    (x, y), *_ = landmarks(luma, 200, margin=20, count=1)
    assert abs(x - 170.3) < 0.5
    assert abs(y - 90.6) < 0.5


def test_landmarks_keep_the_margin_and_their_spacing() -> None:
    rng = np.random.default_rng(1)
    luma = rng.normal(128, 40, (180, 240)).astype(np.float32)
    found = landmarks(luma, 180, margin=45, count=6)
    assert found
    for x, y in found:
        assert 45 <= x <= 240 - 1 - 45
        assert 45 <= y <= 180 - 1 - 45


def test_windows_are_square_luma_at_pdq_size(photo: Image.Image) -> None:
    windows = landmark_windows(np.asarray(photo), 1.0, 3)
    assert len(windows) == 3
    for (left, top, right, bottom), pixels in windows:
        assert pixels.shape == (WINDOW_PIXELS, WINDOW_PIXELS)
        assert right - left == pytest.approx(bottom - top)
        assert right - left == pytest.approx(0.5 * 480, rel=0.02)


def test_known_side_stores_window_pairs_for_every_kept_share(stored: dict[str, str]) -> None:
    for share in KEPT_SHARES:
        assert any(label.startswith(f"landmarks-{round(share * 100)}-") for label in stored)


def test_pairs_join_half_hashes_left_to_right() -> None:
    left, right = "a" * 64, "b" * 64
    assert paired([("r", 90.0, right), ("l", 10.0, left)]) == [("l+r", "a" * 32 + "b" * 32)]


def test_windows_repeating_one_another_are_dropped() -> None:
    same, near, other = "0" * 64, "0" * 62 + "ff", "f" * 64
    assert distinct_windows([same, near, other]) == [False, False, True]


@pytest.mark.parametrize("offset", [(11, 37), (83, 5), (40, 60)])
def test_crop_at_an_arbitrary_offset_is_found_after_augmentation(
    photo: Image.Image, stored: dict[str, str], offset: tuple[int, int]
) -> None:
    x, y = offset
    cropped = _jpeg(photo.crop((x, y, x + 544, y + 408)))  # keeps 85% of each side
    original = pdq_of_pixels(np.asarray(photo))[0]
    assert hamming_distance(pdq_of_pixels(cropped)[0], original) > THRESHOLD
    distance, query_label, stored_label = _closest(cropped, stored)
    assert distance <= THRESHOLD
    assert query_label.startswith("landmarks-")
    assert stored_label.startswith("landmarks-85-")


def test_copy_with_a_corner_watermark_is_found_after_augmentation(
    photo: Image.Image, stored: dict[str, str]
) -> None:
    marked = photo.convert("RGBA")
    layer = Image.new("RGBA", marked.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).rectangle((20, 380, 330, 460), fill=(255, 255, 255, 150))
    query = _jpeg(Image.alpha_composite(marked, layer).convert("RGB"))
    distance, _, _ = _closest(query, stored)
    assert distance <= THRESHOLD


def test_a_distinct_picture_matches_no_stored_window(stored: dict[str, str]) -> None:
    other = _jpeg(synthetic_photo(99, 640, 480))
    distance, _, _ = _closest(other, stored)
    assert distance > THRESHOLD + 16
