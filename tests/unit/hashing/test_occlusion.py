"""Filling in captions and banners, turning small rotations back: generated stand-ins only."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from safeguard.domain.digests import hamming_distance
from safeguard.hashing.occlusion import (
    banner_rows,
    caption_mask,
    fill_masked,
    unbannered,
    uncaptioned,
    unrotated,
)
from safeguard.hashing.pdq import pdq_of_pixels
from safeguard.hashing.recovery import query_hashes
from safeguard.services.demo.pictures import synthetic_photo

THRESHOLD = 31


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    # Turning back finds most slightly turned copies, not all (docs/robustness.md); this
    # stand-in is one it finds both ways.
    return synthetic_photo(8, 480, 360)


@pytest.fixture(scope="module")
def listed_hash(photo: Image.Image) -> str:
    return pdq_of_pixels(np.asarray(photo))[0]


def _jpeg(image: Image.Image) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _captioned(photo: Image.Image) -> Image.Image:
    out = photo.copy()
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=40)
    for y in (15, photo.height - 60):
        draw.text((30, y), "STAND-IN CAPTION", fill=(255, 255, 255), font=font,
                  stroke_width=3, stroke_fill=(0, 0, 0))  # fmt: skip
    return out


def _bannered(photo: Image.Image) -> Image.Image:
    out = photo.copy()
    draw = ImageDraw.Draw(out)
    strip = photo.height // 8
    draw.rectangle((0, photo.height - strip, photo.width, photo.height), fill=(30, 30, 60))
    draw.text((10, photo.height - strip + 10), "example-site.invalid", fill=(255, 255, 255))
    return out


def _turned(photo: Image.Image, degrees: float) -> Image.Image:
    width, height = photo.size
    turned = photo.rotate(degrees, resample=Image.Resampling.BICUBIC)
    radians = math.radians(abs(degrees))
    kept = 1 / (math.cos(radians) + max(width / height, height / width) * math.sin(radians))
    cw, ch = round(width * kept), round(height * kept)
    return turned.crop(
        ((width - cw) // 2, (height - ch) // 2, (width + cw) // 2, (height + ch) // 2)
    )


def _best(pixels: np.ndarray, listed: str) -> tuple[int, str]:
    return min((hamming_distance(h, listed), label) for label, h in query_hashes(pixels))


def test_fill_keeps_known_pixels_and_continues_a_gradient() -> None:
    ramp = np.tile(np.linspace(0, 255, 200, dtype=np.float32), (150, 1))
    pixels = np.dstack([ramp] * 3).astype(np.uint8)
    known = np.ones((150, 200), dtype=bool)
    known[60:90, 80:120] = False
    filled = fill_masked(pixels, known)
    assert np.array_equal(filled[known], pixels[known])
    assert np.abs(filled[~known].astype(int) - pixels[~known].astype(int)).mean() < 12


def test_fill_refuses_an_empty_mask() -> None:
    with pytest.raises(ValueError, match="nothing known"):
        fill_masked(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), bool))


def test_caption_is_found_and_plain_photo_has_none(photo: Image.Image) -> None:
    assert caption_mask(np.asarray(photo)) is None
    mask = caption_mask(_jpeg(_captioned(photo)))
    assert mask is not None
    assert 0.01 < mask.mean() < 0.3
    assert uncaptioned(np.asarray(photo)) is None


def test_banner_rows_are_measured(photo: Image.Image) -> None:
    ((side, rows),) = banner_rows(_jpeg(_bannered(photo)))
    assert side == "bottom"
    assert abs(rows - photo.height // 8) <= 2
    ((side, filled),) = unbannered(_jpeg(_bannered(photo)))
    assert filled.shape == (photo.height, photo.width, 3)


def test_unrotated_restores_the_frame_size(photo: Image.Image) -> None:
    copy = _jpeg(_turned(photo, 3.0))
    guess = unrotated(copy, 3.0)
    assert abs(guess.shape[1] / guess.shape[0] - photo.width / photo.height) < 0.05


def test_captioned_copy_is_found_through_filling(photo: Image.Image, listed_hash: str) -> None:
    copy = _jpeg(_captioned(photo))
    assert hamming_distance(pdq_of_pixels(copy)[0], listed_hash) > THRESHOLD
    distance, label = _best(copy, listed_hash)
    assert distance <= THRESHOLD
    assert label.startswith("uncaptioned")


@pytest.mark.parametrize("degrees", [3.0, -3.0])
def test_slightly_turned_copy_is_found_by_turning_back(
    photo: Image.Image, listed_hash: str, degrees: float
) -> None:
    copy = _jpeg(_turned(photo, degrees))
    assert hamming_distance(pdq_of_pixels(copy)[0], listed_hash) > THRESHOLD
    distance, label = _best(copy, listed_hash)
    assert distance <= THRESHOLD
    assert label == f"unrotated-3-{'ccw' if degrees > 0 else 'cw'}"


def test_occlusion_can_be_switched_off(photo: Image.Image) -> None:
    labels = {label for label, _ in query_hashes(np.asarray(photo), occlusion=False)}
    assert not any(label.startswith(("unrotated", "uncaptioned", "unbannered")) for label in labels)
