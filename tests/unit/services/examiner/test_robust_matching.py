"""Held originals: augmentation entries in a list, and the ORB second stage."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind, category_for
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pdq import pdq_of_pixels
from safeguard.hashing.pipeline import hash_bytes
from safeguard.services.demo.pictures import synthetic_photo
from safeguard.services.examiner.robust_matching import (
    augment_list_from_originals,
    augmentation_entries,
    augmentation_label,
    confirm_with_original,
    original_entry_id,
)
from safeguard.services.matching import MatchService
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.conftest import require_module


@pytest.fixture(scope="module")
def original() -> np.ndarray:
    return np.asarray(synthetic_photo(21, 640, 480))


@pytest.fixture
def entry(original: np.ndarray) -> HashEntry:
    pdq, _ = pdq_of_pixels(original)
    return HashEntry(
        "orig-7", {HashAlgorithm.PDQ: pdq}, category=category_for("uk-sentencing", "C")
    )


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def test_entry_ids_name_the_original_and_the_label(entry: HashEntry, original: np.ndarray) -> None:
    extras = augmentation_entries(entry, original)
    assert extras
    for extra in extras:
        assert original_entry_id(extra.entry_id) == "orig-7"
        assert augmentation_label(extra.entry_id) is not None
        assert extra.category == entry.category
        assert set(extra.digests) == {HashAlgorithm.PDQ}
    assert augmentation_label("orig-7") is None


def test_cropped_copy_matches_an_augmentation_entry(entry: HashEntry, original: np.ndarray) -> None:
    store = MemoryHashListStore()
    store.import_list(HashList("library", ListKind.KNOWN_BAD), [entry])
    written = augment_list_from_originals(store, "library", [(entry, original)])
    assert written == len(augmentation_entries(entry, original))
    cropped = _jpeg(original[24:456, 32:608])  # 5% off every side
    hashed = hash_bytes(cropped, "copy.jpg", HashOptions())
    matches = MatchService(store).match_file_hashes(hashed)
    assert matches
    best = min(matches, key=lambda m: m.distance)
    assert original_entry_id(best.entry_id) == "orig-7"
    assert augmentation_label(best.entry_id) == "crop-90-centre"
    assert best.distance <= best.threshold


def test_second_stage_confirms_a_mirrored_crop(original: np.ndarray) -> None:
    require_module("cv2", "the 'robust' extra (opencv-contrib-python-headless) is not installed")
    # A benign photo bundled in scikit-image, with texture for ORB.
    skimage_data = require_module(
        "skimage.data", "scikit-image (a dev dependency) is not installed"
    )

    coffee = skimage_data.coffee()
    copy = np.ascontiguousarray(coffee[60:380, 120:560][:, ::-1])
    assert confirm_with_original(copy, coffee, "flip_y").confirmed
    assert not confirm_with_original(copy, np.asarray(synthetic_photo(5)), "flip_y").confirmed
