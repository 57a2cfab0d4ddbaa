"""PDQ hashes of decoded pixels, by Meta's C++ code through the `pdqhash` binding.

Two paths, chosen by `HashOptions.pdq_mode`:

* ``reference``: the image is decoded at full size and handed to ``pdqhash.compute``.
  The result is bit-exact with ``pdqhash`` (and so with ThreatExchange's Python hasher)
  on the same decoded pixels.
* ``fast`` (default): JPEGs are decoded by libjpeg at 1/2, 1/4 or 1/8 scale in the DCT
  domain (Pillow's ``Image.draft``), choosing the largest reduction that keeps both sides
  at least `FAST_MIN_SIDE` pixels, and the smaller pixel array is hashed. PDQ's first step
  is a Jarosz box-filter downscale to 64x64, so starting from 1008x756 instead of
  4032x3024 changes only a few bits (measured: ``benchmarks/hashing/pdq_accuracy.py`` and
  ``docs/hashing.md``) while cutting the time per 12 MP photo by about 10x. Other formats,
  and JPEGs smaller than twice `FAST_MIN_SIDE` on a side, are hashed at full size in both
  modes, so their hashes are identical.

Hashes are 64 lower-case hex digits, most significant bit first, the same text form as
ThreatExchange and Meta's tools.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from safeguard.domain.errors import MediaTooLargeError
from safeguard.hashing.image_decoding import RgbArray, as_rgb_pixels, load_rgb

FAST_MIN_SIDE = 512
"""The fast path never reduces a JPEG below this many pixels on either side."""

DIHEDRAL_ORDER: tuple[str, ...] = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_x",
    "flip_y",
    "flip_plus1",
    "flip_minus1",
)
"""Order of `pdq_dihedral_of_pixels` results (pdqhash's order). ``FileHashes.pdq_variants``
holds the last seven: rotations by 90/180/270 degrees, mirror about the horizontal axis
(``flip_x``), about the vertical axis (``flip_y``), and about the main and anti-diagonals."""


def _hex(bits: npt.NDArray[np.int64]) -> str:
    # pdqhash returns 256 0/1 values, most significant first; pack them to 32 bytes.
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def pdq_of_pixels(rgb: npt.NDArray[np.uint8]) -> tuple[str, int]:
    """PDQ hash (64 hex digits) and quality (0-100) of uint8 pixels.

    Accepts H x W x 3 RGB, H x W x 4 (alpha ignored) or H x W grey. Bit-exact with
    ``pdqhash.compute`` on the same RGB array.
    """
    bits, quality = pdqhash.compute(as_rgb_pixels(rgb))
    return _hex(bits), int(quality)


def pdq_dihedral_of_pixels(rgb: npt.NDArray[np.uint8]) -> tuple[list[str], int]:
    """The eight dihedral PDQ hashes (order `DIHEDRAL_ORDER`, original first) and the quality.

    Computed in one pass by ``pdqhash.compute_dihedral``; bit-exact with it.
    """
    vectors, quality = pdqhash.compute_dihedral(as_rgb_pixels(rgb))
    return [_hex(bits) for bits in vectors], int(quality)


JPEG_MAX_REDUCTION = 64
"""The fast path decodes a JPEG at no less than 1/8 of each side: 1/64 of its pixels."""


def pixels_for_pdq(
    image: Image.Image,
    mode: Literal["fast", "reference"] = "fast",
    max_pixels: int | None = None,
) -> RgbArray:
    """Decode an opened, not yet loaded image into the RGB pixels PDQ should see.

    In ``fast`` mode a JPEG is decoded at reduced scale (see module docstring); everything
    else is decoded at full size.

    Args:
        image: the opened image.
        mode: the PDQ path.
        max_pixels: refuse (before decoding) when more pixels than this would be decoded,
            i.e. after the JPEG reduction; None for no check here.

    Raises:
        CorruptMediaError: the pixel data is truncated or damaged.
        MediaTooLargeError: Pillow's own bomb guard refused the image, or it would decode
            more than `max_pixels`.
    """
    if mode == "fast" and image.format == "JPEG":
        image.draft(None, (FAST_MIN_SIDE, FAST_MIN_SIDE))
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        raise MediaTooLargeError(
            f"image would decode to {width}x{height} = {width * height:,} pixels, over the "
            f"limit of {max_pixels:,} pixels"
        )
    return load_rgb(image)


def pdq_of_image(
    image: Image.Image, mode: Literal["fast", "reference"] = "fast"
) -> tuple[str, int]:
    """PDQ hash and quality of an opened image's current frame (see `pixels_for_pdq`).

    Raises:
        CorruptMediaError: the pixel data is truncated or damaged.
        MediaTooLargeError: Pillow's own bomb guard refused the image.
    """
    return pdq_of_pixels(pixels_for_pdq(image, mode))
