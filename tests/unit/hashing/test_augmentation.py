"""Known-side augmentation: stored crop and rotation hashes of a held original."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from safeguard.domain.digests import hamming_distance
from safeguard.hashing.augmentation import augmentation_hashes, augmentation_windows
from safeguard.hashing.pdq import pdq_of_pixels
from safeguard.services.demo.pictures import synthetic_photo

THRESHOLD = 31


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return synthetic_photo(11, 640, 480)


def _jpeg(image: Image.Image) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def test_labels_name_each_derived_picture(photo: Image.Image) -> None:
    labels = [a.label for a in augmentation_hashes(np.asarray(photo))]
    assert "crop-90-centre" in labels
    assert "crop-70-bottom-right" in labels
    assert "cut-15-left" in labels
    assert "rotate-3-cw" in labels
    assert any(label.startswith("landmarks-85-") for label in labels)
    assert len(labels) == len(set(labels))
    # 42 crops, cuts and turns, and up to 91 pairs of 14 landmark windows per kept share.
    assert 42 < len(labels) <= 42 + 91 * 6


def test_windows_stay_inside_the_picture() -> None:
    for _, (left, top, right, bottom) in augmentation_windows(640, 480):
        assert 0 <= left < right <= 640
        assert 0 <= top < bottom <= 480


def test_cropped_copy_is_near_a_stored_crop_but_far_from_the_original(photo: Image.Image) -> None:
    original = pdq_of_pixels(np.asarray(photo))[0]
    cropped = _jpeg(photo.crop((32, 24, 608, 456)))  # 5% off every side
    query = pdq_of_pixels(cropped)[0]
    assert hamming_distance(query, original) > THRESHOLD
    stored = {a.label: a.pdq for a in augmentation_hashes(np.asarray(photo))}
    assert hamming_distance(query, stored["crop-90-centre"]) <= THRESHOLD


def test_corner_crop_is_near_the_matching_corner_hash(photo: Image.Image) -> None:
    cropped = _jpeg(photo.crop((0, 0, 512, 384)))  # the top-left 80%
    query = pdq_of_pixels(cropped)[0]
    stored = {a.label: a.pdq for a in augmentation_hashes(np.asarray(photo))}
    best = min(stored, key=lambda label: hamming_distance(query, stored[label]))
    assert best == "crop-80-top-left"
    assert hamming_distance(query, stored[best]) <= THRESHOLD


def test_near_uniform_original_gets_no_extra_hashes() -> None:
    rng = np.random.default_rng(1)
    flat = np.clip(128 + rng.normal(0, 2, size=(300, 400, 3)), 0, 255).astype(np.uint8)
    assert augmentation_hashes(flat) == ()
