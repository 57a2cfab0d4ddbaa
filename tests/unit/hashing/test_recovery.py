"""Query-side recovery on generated stand-ins: frames, letterboxing, screenshots, skew."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from safeguard.domain.digests import hamming_distance
from safeguard.hashing.pdq import DIHEDRAL_ORDER, pdq_of_pixels
from safeguard.hashing.recovery import query_hashes, recovery_hashes
from safeguard.hashing.region_hashes import low_information_reason
from safeguard.services.demo.pictures import synthetic_photo

THRESHOLD = 31


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return synthetic_photo(3, 480, 360)


@pytest.fixture(scope="module")
def listed_hash(photo: Image.Image) -> str:
    return pdq_of_pixels(np.asarray(photo))[0]


def _jpeg(image: Image.Image, quality: int = 85) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _best(pixels: np.ndarray, listed: str) -> tuple[int, str]:
    found = [(hamming_distance(h, listed), label) for label, h in query_hashes(pixels)]
    return min(found) if found else (256, "-")


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 0, 0), (40, 120, 200)])
def test_framed_copy_is_found_through_trimming(
    photo: Image.Image, listed_hash: str, fill: tuple[int, int, int]
) -> None:
    framed = _jpeg(ImageOps.expand(photo, border=(30, 60, 45, 20), fill=fill))
    assert hamming_distance(pdq_of_pixels(framed)[0], listed_hash) > THRESHOLD
    distance, label = _best(framed, listed_hash)
    assert distance <= THRESHOLD
    assert label.startswith("trimmed")


def test_letterboxed_copy_is_found(photo: Image.Image, listed_hash: str) -> None:
    canvas = Image.new("RGB", (480, 640), (0, 0, 0))
    canvas.paste(photo, (0, 140))
    distance, label = _best(_jpeg(canvas), listed_hash)
    assert distance <= THRESHOLD
    assert label.startswith("trimmed")


def _screenshot(photo: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (720, 1280), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 720, 44), fill=(20, 20, 20))
    draw.text((20, 12), "12:45", fill=(255, 255, 255))
    draw.rectangle((0, 44, 720, 140), fill=(60, 90, 200))
    draw.text((24, 80), "shared album", fill=(255, 255, 255))
    canvas.paste(photo.resize((672, 504)), (24, 170))
    for line in range(3):
        draw.text((24, 700 + 30 * line), "a caption under the picture", fill=(30, 30, 30))
    for button in range(4):
        draw.rounded_rectangle(
            (24 + 170 * button, 820, 174 + 170 * button, 880), 12, fill=(60, 90, 200)
        )
    return canvas


def test_screenshot_framing_is_found_as_embedded_picture(
    photo: Image.Image, listed_hash: str
) -> None:
    shot = np.asarray(_screenshot(photo))
    assert hamming_distance(pdq_of_pixels(shot)[0], listed_hash) > THRESHOLD
    distance, label = _best(shot, listed_hash)
    assert distance <= THRESHOLD
    assert label in ("embedded", "embedded-loose", "trimmed", "trimmed-loose")


def test_recovered_hash_carries_label_box_and_quality(photo: Image.Image) -> None:
    shot = np.asarray(_screenshot(photo))
    recovered = recovery_hashes(shot)
    assert recovered
    for item in recovered:
        left, top, right, bottom = item.box
        assert 0 <= left < right <= shot.shape[1]
        assert 0 <= top < bottom <= shot.shape[0]
        assert item.quality >= 50
        assert len(item.pdq) == 64


def test_rotation_with_filled_corners_is_deskewed(photo: Image.Image, listed_hash: str) -> None:
    turned = _jpeg(photo.rotate(7, resample=Image.Resampling.BICUBIC, expand=True), 90)
    distance, label = _best(turned, listed_hash)
    assert label == "deskewed"
    assert distance <= THRESHOLD


def test_unedited_photo_needs_no_recovery(photo: Image.Image) -> None:
    assert recovery_hashes(np.asarray(photo), occlusion=False, landmarks=False) == ()
    labels = [r.label for r in recovery_hashes(np.asarray(photo), occlusion=False)]
    assert all(label.startswith("landmarks-") for label in labels)
    # A small rotation leaves no trace to detect, so its two turned-back guesses are always
    # tried; nothing else is found in an unedited photo.
    labels = {found.label for found in recovery_hashes(np.asarray(photo), landmarks=False)}
    assert labels <= {"unrotated-3-cw", "unrotated-3-ccw"}


def test_query_hashes_start_with_the_dihedral_variants(photo: Image.Image) -> None:
    labels = [label for label, _ in query_hashes(np.asarray(photo))]
    assert labels[:8] == list(DIHEDRAL_ORDER)


def _near_uniform(seed: int, with_icon: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pixels = np.full((300, 400, 3), (90, 140, 60), dtype=np.float32)
    pixels += np.linspace(0, 8, 400, dtype=np.float32)[None, :, None]
    pixels += rng.normal(0, 2.5, size=pixels.shape)
    if with_icon:
        pixels[20:50, 30:60] = (250, 250, 250)
    return np.clip(pixels, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("with_icon", [False, True])
def test_near_uniform_pictures_yield_no_usable_hash(with_icon: bool) -> None:
    pixels = _near_uniform(5, with_icon)
    assert low_information_reason(pixels) is not None
    assert query_hashes(pixels) == ()


def test_framed_near_uniform_picture_yields_no_hash() -> None:
    framed = np.asarray(ImageOps.expand(Image.fromarray(_near_uniform(6, False)), 40, (0, 0, 0)))
    assert recovery_hashes(framed) == ()


def test_photo_is_not_low_information(photo: Image.Image) -> None:
    assert low_information_reason(np.asarray(photo)) is None


def test_hashing_pipeline_fills_pdq_regions_when_asked(photo: Image.Image) -> None:
    from safeguard.hashing.contract import HashOptions
    from safeguard.hashing.pipeline import hash_bytes
    from safeguard.services.demo.pictures import encode

    framed = encode(ImageOps.expand(photo, border=50, fill=(255, 255, 255)))
    hashed = hash_bytes(framed, "framed.jpg", HashOptions(recovery=True))
    labels = [label for label, _ in hashed.pdq_regions]
    assert [label for label in labels if not label.startswith("landmarks-")] == ["trimmed"]
    assert hash_bytes(framed, "framed.jpg", HashOptions()).pdq_regions == ()
