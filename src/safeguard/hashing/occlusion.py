"""Undo edits that hide or turn part of a picture: captions, banners, small rotations.

Query-side recovery (`safeguard.hashing.recovery`) cuts away what was added around a
picture. Some edits instead paint over it or turn it, and then there is nothing to cut:

* a meme caption (white letters with a dark outline) across the top and bottom;
* an opaque banner with a site name over a strip at the top or bottom edge;
* a rotation by a few degrees, cut to the upright rectangle inside, so the corners of the
  original are gone and everything has moved.

PDQ looks at a 64x64 blurred luma copy of the whole picture, so what matters is the coarse
brightness pattern. The functions here guess the hidden pixels from their surroundings
(onion peeling: ring by ring, each hidden pixel takes the average of its known
neighbours) and, for a rotation, turn the picture back onto a canvas the size
of the original frame before filling the corners. The guess is never the original, but it
is close enough at PDQ's scale for many copies to land inside the match threshold
(``docs/robustness.md`` gives the recall per edit). Each function returns None when its
edit does not look present, so ordinary pictures cost one cheap test each.

All work here is on small copies (at most a few hundred pixels a side): PDQ sees no more.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PIL import Image

CAPTION_BRIGHT = 225
"""A caption letter's pixels: every channel at least this bright."""

CAPTION_DARK = 50
"""A caption outline's pixels: every channel at most this dark."""

CAPTION_SHARE = (0.002, 0.2)
"""Share of the picture that caption letters may cover: less is noise, more is a bright picture."""

BANNER_TOLERANCE = 24
"""A banner row's pixels lie within this (per channel) of the banner's colour."""

BANNER_ROW_SHARE = 0.6
"""Share of a row that must have the banner's colour (the rest is its lettering)."""

BANNER_HEIGHT = (0.05, 0.25)
"""A banner covers this share of the picture's height."""

FILL_SIDE = 64
"""Hidden pixels are guessed on a copy about this many pixels a side."""

ROTATION_SIDE = 256
"""A copy is turned back at most this many pixels a side (PDQ then sees it at 64x64)."""

ROTATIONS = (3.0, -3.0)
"""Angles (degrees, counter-clockwise positive) a query is turned back by, each a guess.

The robustness benchmark's rotated copies are turned by 2.4-3.6 degrees; turning back by 3
recovers most of them, by 4 far fewer, so each guess covers about half a degree either side.
Turning back by 5 as well found half of the copies turned by 4-6 degrees, but every guess
costs one more hash on every query, unknown ones included; two guesses keep recovery within
its speed budget (``docs/robustness.md``)."""


def fill_masked(
    pixels: npt.NDArray[np.uint8], known: npt.NDArray[np.bool_]
) -> npt.NDArray[np.uint8]:
    """The picture with every pixel where `known` is False guessed from its surroundings.

    The guess is made on a copy shrunk by a whole factor to about `FILL_SIDE` pixels a
    side (each cell the mean of its known pixels), by onion peeling: ring by ring from the
    known edge inwards, each unknown cell takes the average of its known neighbours. The
    guess is scaled back up and used only where `known` is False. PDQ sees the picture at
    64x64, so a finer guess would cost more and change nothing it sees.

    Raises:
        ValueError: no pixel is known, or the shapes disagree.
    """
    if known.shape != pixels.shape[:2]:
        raise ValueError("mask and picture differ in size")
    if not known.any():
        raise ValueError("nothing known to fill from")
    height, width = known.shape
    factor = max(1, math.ceil(max(height, width) / FILL_SIDE))
    mask = Image.fromarray(known.astype(np.uint8) * 255)
    premultiplied = Image.fromarray(pixels * known[..., None].astype(np.uint8))
    if factor > 1:  # Box means of colour x known and of known: their ratio is the known mean.
        mask_low, colour_low = mask.reduce(factor), premultiplied.reduce(factor)
    else:
        mask_low, colour_low = mask, premultiplied
    share = np.asarray(mask_low, dtype=np.float32) / 255.0
    low = np.asarray(colour_low, dtype=np.float32) / np.maximum(share, 1e-6)[..., None]
    guess = np.clip(_onion_fill(low, share > 0) + 0.5, 0, 255).astype(np.uint8)
    upscaled = Image.fromarray(guess).resize((width, height), Image.Resampling.BILINEAR)
    filled = Image.composite(Image.fromarray(pixels), upscaled, mask)
    return np.asarray(filled)


def _onion_fill(
    colour: npt.NDArray[np.float32], known: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float32]:
    height, width = known.shape
    # Zero-padded buffers, written through views of their inside: no padding per ring.
    padded_colour = np.zeros((height + 2, width + 2, colour.shape[2]), np.float32)
    padded_have = np.zeros((height + 2, width + 2), np.float32)
    inside_colour = padded_colour[1:-1, 1:-1]
    have = padded_have[1:-1, 1:-1]
    inside_colour[...] = colour * known[..., None]
    have[...] = known
    while float(have.min()) == 0.0:
        total = (
            padded_colour[:-2, 1:-1] + padded_colour[2:, 1:-1]
            + padded_colour[1:-1, :-2] + padded_colour[1:-1, 2:]
        )  # fmt: skip
        count = (
            padded_have[:-2, 1:-1] + padded_have[2:, 1:-1]
            + padded_have[1:-1, :-2] + padded_have[1:-1, 2:]
        )  # fmt: skip
        frontier = (have == 0.0) & (count > 0)
        inside_colour[frontier] = total[frontier] / count[frontier][:, None]
        have[frontier] = 1.0
    result: npt.NDArray[np.float32] = inside_colour.copy()
    return result


def caption_mask(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_] | None:
    """Where meme-style caption letters (bright fill, dark outline) cover the picture, or None.

    A bright pixel counts only next to a dark one, so a white wall or a highlight does not;
    the mask is grown to take the letters' outline and anti-aliasing with it.
    """
    # Channel by channel: numpy reduces a last axis of length three far more slowly.
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    bright = np.minimum(np.minimum(red, green), blue) >= CAPTION_BRIGHT
    dark = np.maximum(np.maximum(red, green), blue) <= CAPTION_DARK
    near_dark = _grown(dark, 5)
    letters = bright & near_dark
    share = float(letters.mean())
    if not CAPTION_SHARE[0] <= share <= CAPTION_SHARE[1]:
        return None
    grown = _grown(letters, 7)
    return _grown(grown | (dark & _grown(grown, 5)), 3)


def _grown(mask: npt.NDArray[np.bool_], size: int) -> npt.NDArray[np.bool_]:
    """A mask grown by a square of `size` pixels (odd): a running maximum along each axis."""
    reach = size // 2
    out = mask
    for axis in (0, 1):
        padded = np.pad(out, [(reach, reach) if a == axis else (0, 0) for a in (0, 1)])
        length = out.shape[axis]
        grown = np.zeros_like(out)
        for shift in range(size):
            grown |= (
                padded[shift : shift + length] if axis == 0 else padded[:, shift : shift + length]
            )
        out = grown
    return out


def uncaptioned(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    """The picture with caption letters filled in from around them, or None without a caption."""
    mask = caption_mask(pixels)
    if mask is None:
        return None
    return fill_masked(pixels, ~mask)


def banner_rows(pixels: npt.NDArray[np.uint8]) -> list[tuple[str, int]]:
    """Strips at the top or bottom edge that look like an opaque banner: (side, rows)."""
    height = pixels.shape[0]
    lo, hi = math.ceil(height * BANNER_HEIGHT[0]), math.floor(height * BANNER_HEIGHT[1])
    found: list[tuple[str, int]] = []
    for side in ("top", "bottom"):
        rows = pixels[: hi + 1] if side == "top" else pixels[::-1][: hi + 1]
        colour = np.median(rows[0], axis=0)
        off_colour = [np.abs(rows[..., c].astype(np.int16) - int(colour[c])) for c in range(3)]
        farthest = np.maximum(np.maximum(off_colour[0], off_colour[1]), off_colour[2])
        near = (farthest < BANNER_TOLERANCE).mean(axis=1)
        off = np.flatnonzero(near < BANNER_ROW_SHARE)
        count = int(off[0]) if off.size else len(rows)
        if lo <= count <= hi:
            found.append((side, count))
    return found


def unbannered(pixels: npt.NDArray[np.uint8]) -> list[tuple[str, npt.NDArray[np.uint8]]]:
    """For each banner-like strip, the picture with that strip filled in: (side, pixels)."""
    height = pixels.shape[0]
    results: list[tuple[str, npt.NDArray[np.uint8]]] = []
    for side, count in banner_rows(pixels):
        known = np.ones(pixels.shape[:2], dtype=bool)
        if side == "top":
            known[:count] = False
        else:
            known[height - count :] = False
        results.append((side, fill_masked(pixels, known)))
    return results


def unrotated(pixels: npt.NDArray[np.uint8], degrees: float) -> npt.NDArray[np.uint8]:
    """Guess at the original of a copy turned by `degrees` and cut to its upright inner rectangle.

    The copy (shrunk to at most `ROTATION_SIDE` a side) is turned back by -`degrees` onto a
    canvas the size the original frame would have at this scale (the cut kept the share
    ``1 / (cos a + r sin a)`` of each side, r the aspect ratio, at least 1), and the corners
    it never showed are filled in.
    """
    image = Image.fromarray(pixels)
    scale = max(image.size) / ROTATION_SIDE
    if scale > 1:
        image = image.resize(
            (max(1, round(image.width / scale)), max(1, round(image.height / scale))),
            Image.Resampling.BOX,
        )
    width, height = image.size
    radians = math.radians(abs(degrees))
    kept = 1 / (math.cos(radians) + max(width / height, height / width) * math.sin(radians))
    frame = (round(width / kept), round(height / kept))
    turned = image.rotate(-degrees, resample=Image.Resampling.BILINEAR, expand=True)
    shown = Image.new("L", image.size, 255).rotate(-degrees, expand=True)
    canvas = Image.new("RGB", frame)
    mask = Image.new("L", frame, 0)
    offset = ((frame[0] - turned.width) // 2, (frame[1] - turned.height) // 2)
    canvas.paste(turned, offset)
    mask.paste(shown, offset)
    return fill_masked(np.asarray(canvas), np.asarray(mask) > 250)
