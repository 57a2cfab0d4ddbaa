from __future__ import annotations

from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from safeguard.hashing.pdq import pdq_dihedral_of_pixels, pdq_of_image, pdq_of_pixels
from tests import media_factories as media


def packed(bits: object) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def test_pdq_of_pixels_is_bit_exact_with_pdqhash() -> None:
    pixels = np.asarray(media.photo(seed=31, width=300, height=200))
    bits, quality = pdqhash.compute(pixels)
    assert pdq_of_pixels(pixels) == (packed(bits), quality)


def test_grey_and_rgba_pixels_are_handled_like_threatexchange() -> None:
    rgb = np.asarray(media.photo(seed=2, width=120, height=90))
    grey = rgb[:, :, 1].copy()
    assert pdq_of_pixels(grey) == pdq_of_pixels(np.dstack([grey, grey, grey]))
    rgba = np.dstack([rgb, np.full(grey.shape, 7, dtype=np.uint8)])
    assert pdq_of_pixels(rgba) == pdq_of_pixels(rgb)


def test_non_uint8_pixels_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        pdq_of_pixels(np.zeros((8, 8, 3), dtype=np.float32))  # type: ignore[arg-type]


def test_dihedral_original_equals_plain_hash() -> None:
    pixels = np.asarray(media.photo(seed=4, width=160, height=120))
    hashes, quality = pdq_dihedral_of_pixels(pixels)
    assert len(hashes) == 8
    assert (hashes[0], quality) == pdq_of_pixels(pixels)
    assert len(set(hashes)) == 8


def test_pdq_of_image_reference_mode(tmp_path: Path) -> None:
    path = media.write_jpeg(tmp_path / "a.jpg", seed=3, width=1200, height=900)
    with Image.open(path) as image:
        reference = pdq_of_image(image, "reference")
    with Image.open(path) as image:
        expected = pdq_of_pixels(np.asarray(image.convert("RGB")))
    assert reference == expected
