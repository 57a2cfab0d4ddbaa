"""ORB + RANSAC confirmation of crop- and rotation-heavy candidates (benign package photos)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from tests.conftest import require_module

# Skipped locally without them, failed under CI (which installs every extra).
require_module("cv2", "the 'robust' extra (opencv-contrib-python-headless) is not installed")
skimage_data = require_module("skimage.data", "scikit-image (a dev dependency) is not installed")

from safeguard.matching.local_features import (  # noqa: E402
    confirm,
    confirm_features,
    local_features,
    mirror_for_variant,
)


def _package_photo(name: str) -> np.ndarray:
    """A photo bundled in scikit-image's wheel: a benign stand-in for a listed original."""
    path = os.path.join(os.path.dirname(skimage_data.__file__), name)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def original() -> np.ndarray:
    return _package_photo("coffee.png")


def _cropped_rotated(pixels: np.ndarray) -> np.ndarray:
    image = Image.fromarray(pixels)
    w, h = image.size
    image = image.crop((w // 5, h // 6, w - w // 10, h - h // 8)).rotate(6, expand=True)
    return np.asarray(image.resize((image.width * 3 // 4, image.height * 3 // 4)))


def test_cropped_and_rotated_copy_is_confirmed(original: np.ndarray) -> None:
    verdict = confirm(_cropped_rotated(original), original)
    assert verdict.confirmed
    assert verdict.inliers >= 20
    assert 0.25 <= verdict.ratio <= 1.0


def test_different_picture_is_rejected(original: np.ndarray) -> None:
    other = _package_photo("rocket.jpg")
    verdict = confirm(other, original)
    assert not verdict.confirmed
    assert verdict.inliers < 20


def test_mirrored_copy_is_confirmed_once_mirrored_back(original: np.ndarray) -> None:
    mirrored = np.ascontiguousarray(original[:, ::-1])
    assert confirm(mirror_for_variant(mirrored, "flip_y"), original).confirmed
    assert mirror_for_variant(original, "rotate90") is original


def test_featureless_picture_is_rejected(original: np.ndarray) -> None:
    flat = np.full((200, 300, 3), 127, dtype=np.uint8)
    verdict = confirm_features(local_features(flat), local_features(original))
    assert verdict == verdict.__class__(0, 0.0, False)
