"""Geometry behind query-side recovery: trimming, layout cuts, deskew."""

from __future__ import annotations

import numpy as np
from PIL import Image

from safeguard.hashing.picture_regions import area, deskew, layout_leaves, refine, trim
from safeguard.services.demo.pictures import synthetic_photo


def _framed(fill: tuple[int, int, int]) -> np.ndarray:
    canvas = np.zeros((200, 300, 3), dtype=np.int16)
    canvas[:] = fill
    canvas[30:170, 40:250] = np.asarray(synthetic_photo(2, 210, 140))
    return canvas


def test_trim_peels_a_frame_of_its_own_colour() -> None:
    assert trim(_framed((255, 0, 0)), (0, 0, 300, 200), 12, 0.97, own_colour=False) == (
        40,
        30,
        250,
        170,
    )


def test_trim_keeps_a_flat_sky_of_another_colour() -> None:
    pixels = _framed((255, 255, 255))
    pixels[30:60, 40:250] = (180, 200, 230)  # the picture's own flat top edge
    assert trim(pixels, (0, 0, 300, 200), 12, 0.97, own_colour=False) == (40, 30, 250, 170)


def test_trim_of_a_flat_picture_is_none() -> None:
    flat = np.full((50, 60, 3), 90, dtype=np.int16)
    assert trim(flat, (0, 0, 60, 50), 12, 0.97, own_colour=False) is None


def test_layout_leaves_put_the_picture_first() -> None:
    canvas = np.full((400, 240, 3), 245, dtype=np.int16)
    canvas[0:40] = (50, 80, 200)  # an app bar
    canvas[60:240, 10:230] = np.asarray(synthetic_photo(4, 220, 180))
    canvas[260:280, 10:120] = 20  # a line of "text"
    leaves = layout_leaves(canvas)
    assert leaves[0] == (10, 60, 230, 240)
    assert area(leaves[0]) == max(area(leaf) for leaf in leaves)


def test_refine_peels_left_over_frame_lines() -> None:
    pixels = _framed((0, 0, 0)).astype(np.uint8)
    assert refine(pixels, (37, 28, 253, 172), reach=4) == (40, 30, 250, 170)


def test_deskew_turns_a_rotated_picture_upright() -> None:
    turned = synthetic_photo(9, 240, 180).rotate(6, expand=True, resample=Image.Resampling.BICUBIC)
    result = deskew(np.asarray(turned))
    assert result is not None
    upright, bounds = result
    assert abs(upright.shape[1] - 240) <= 8
    assert abs(upright.shape[0] - 180) <= 8
    assert bounds[2] - bounds[0] > 240


def test_deskew_leaves_upright_pictures_alone() -> None:
    assert deskew(np.asarray(synthetic_photo(9, 240, 180))) is None
