"""Hashing one region of a picture for query-side recovery, and the guards it must pass.

`safeguard.hashing.recovery` hashes each region it finds from pixels shrunk (box filter) to
at most `HASH_SIDE` a side, and only when the region is fit for perceptual matching
(`low_information_reason` None, PDQ quality at the floor); each hash is a `RecoveredHash`
with its label and box, so a reviewer sees which region matched. The known side's stored
crops (`safeguard.hashing.augmentation`) use the same size and the same fitness check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from safeguard.hashing.image_decoding import as_rgb_pixels
from safeguard.hashing.pdq import DIHEDRAL_ORDER, pdq_dihedral_of_pixels, pdq_of_pixels
from safeguard.hashing.picture_regions import MIN_REGION_SIDE, Box

HASH_SIDE = 384
"""Regions are hashed from full-size pixels shrunk to at most this. Smaller saves time but
costs accuracy: shrinking a picture to 384 pixels alone moved its PDQ hash up to 16 bits
(40 for a brick texture), at 512 up to 18 and mostly under 10; 512 found 1% more edited
copies in the benchmark but made queries about 40% slower."""

NEAR_UNIFORM_STD = 6.0
"""Luma standard deviation (0-255) at 64x64 below which a picture is near-uniform."""

MIN_TEXTURED_BLOCK_SHARE = 0.2
"""Share of 8x8 blocks (of the 64x64 luma) that must carry visible detail."""

_TEXTURED_BLOCK_STD = 3.0


@dataclass(frozen=True, slots=True)
class RecoveredHash:
    """One extra query hash and where it came from.

    Attributes:
        label: what was undone: ``trimmed``, ``trimmed-loose``, ``embedded``,
            ``embedded-loose``, ``deskewed``, ``uncaptioned``, ``unbannered-<side>`` or
            ``unrotated-<degrees>-<cw|ccw>``.
        pdq: 64 hex digits.
        quality: PDQ quality of the region, 0-100.
        box: the region in the input's pixel coordinates (for ``deskewed``: the rotated
            picture's bounding box).
        variants: the region's seven other dihedral hashes (order
            ``DIHEDRAL_ORDER[1:]``) when asked for, else empty: a mirrored picture in a
            frame needs both undone.
    """

    label: str
    pdq: str
    quality: int
    box: Box
    variants: tuple[str, ...] = ()

    def labelled(self) -> list[tuple[str, str]]:
        """(label, hash) for the region and each variant, e.g. ``trimmed+flip_y``."""
        named = zip(DIHEDRAL_ORDER[1:], self.variants, strict=False)
        return [(self.label, self.pdq)] + [(f"{self.label}+{n}", h) for n, h in named]


def low_information_reason(rgb: npt.NDArray[np.uint8]) -> str | None:
    """Why a picture is unfit for perceptual matching, or None when it is fit.

    PDQ's quality alone lets through pictures that are almost flat with a little structure
    (a logo on a plain ground, a faint gradient with noise): their hash bits follow that
    little structure and such pictures collide with each other. Two checks on the 64x64
    luma PDQ itself sees: its standard deviation must reach `NEAR_UNIFORM_STD`, and at least
    `MIN_TEXTURED_BLOCK_SHARE` of its 8x8 blocks must show detail.
    """
    if rgb.ndim == 2 and rgb.shape == (64, 64):  # Already PDQ's grid (a landmark window).
        luma = rgb.astype(np.float32)
    else:
        pixels = rgb if rgb.ndim == 2 else as_rgb_pixels(rgb)
        if pixels.shape[0] < 8 or pixels.shape[1] < 8:
            return "too small"
        image = Image.fromarray(pixels)
        factor = min(image.size) // 128
        if factor > 1:  # An integer box reduction first: same result at 64x64, far cheaper.
            image = image.reduce(factor)
        grey = image if image.mode == "L" else image.convert("L")
        luma = np.asarray(grey.resize((64, 64), Image.Resampling.BOX), np.float32)
    if float(luma.std()) < NEAR_UNIFORM_STD:
        return "near-uniform"
    blocks = luma.reshape(8, 8, 8, 8).std(axis=(1, 3))
    if float((blocks >= _TEXTURED_BLOCK_STD).mean()) < MIN_TEXTURED_BLOCK_SHARE:
        return "low information"
    return None


def working_copy(
    pixels: npt.NDArray[np.uint8], side: int, image: Image.Image | None = None
) -> tuple[npt.NDArray[np.uint8], float]:
    """The pixels shrunk (box filter) to at most `side` a side, and the factor used.

    `image`, when given, is `pixels` as a Pillow image already (made once, used twice).
    """
    height, width = pixels.shape[:2]
    scale = max(height, width) / side
    if scale <= 1:
        return pixels, 1.0
    size = (max(1, round(width / scale)), max(1, round(height / scale)))
    image = Image.fromarray(pixels) if image is None else image
    if scale >= 2:  # An integer box reduction first does most of the work cheaply.
        image = image.reduce(int(scale))
    return np.asarray(image.resize(size, Image.Resampling.BOX)), scale


def hash_region(
    label: str, region: npt.NDArray[np.uint8], box: Box, quality_floor: int, dihedral: bool
) -> RecoveredHash | None:
    """`region` hashed as `label` at `box`, shrunk to at most `HASH_SIDE` a side.

    None when the region is too small, fails `low_information_reason` or its PDQ quality is
    below `quality_floor`; with `dihedral` the hash carries its seven variants.
    """
    if min(region.shape[:2]) < MIN_REGION_SIDE // 2:
        return None
    small, _ = working_copy(np.ascontiguousarray(region), HASH_SIDE)
    if low_information_reason(small) is not None:
        return None
    small = np.ascontiguousarray(small)
    if dihedral:
        hashes, quality = pdq_dihedral_of_pixels(small)
        pdq, variants = hashes[0], tuple(hashes[1:])
    else:
        (pdq, quality), variants = pdq_of_pixels(small), ()
    if quality < quality_floor:
        return None
    return RecoveredHash(label, pdq, quality, box, variants)
