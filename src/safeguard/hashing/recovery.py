"""Query-side recovery: extra PDQ hashes of the part of a picture that is probably the original.

PDQ survives re-encoding, resizing and recolouring, but a frame around a picture, letterbox
bars, the interface around a screenshot or a rotation with filled corners move the hash 70
bits or more, far past the match threshold. When only a list's PDQ hashes are known (the
usual case) the edit has to be undone on the query side. `recovery_hashes` looks at decoded
pixels and returns a few labelled extra hashes, each of the region it believes is the
original picture:

* ``trimmed``: uniform borders peeled off each side (each side its own colour, so a frame,
  letterbox or pillarbox bars of any colour); ``trimmed-loose`` does the same tolerating
  noise, faint gradients and a little text or a logo in the border.
* ``embedded``: the dominant picture inside a screenshot-like image, found by recursive
  cuts along uniform gaps (the XY-cut of document layout analysis): status bars, app bars,
  captions, chat bubbles and sidebars fall away and the largest photo-like leaf remains.
* ``deskewed``: a picture rotated by a few degrees with its corners filled by one colour is
  turned back upright and cut to its rectangle.

The eight dihedral variants (rotations by 90 degrees, mirrors) are not made here: they come
almost free from PDQ's DCT (`safeguard.hashing.pdq.pdq_dihedral_of_pixels`). Crops cannot be
undone from the query alone; the known side stores crops instead
(`safeguard.hashing.augmentation`).

Every extra hash is one more chance of a false match, so variants whose region is nearly
the whole picture or repeats another variant are dropped, and a region must pass the same
guards as a whole picture: PDQ quality at the floor and `low_information_reason` None.
Work happens on a copy at most `WORK_SIDE` pixels on a side; each variant costs about one
PDQ hash of that size (about 1-4 ms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from safeguard.domain.file_hashes import PDQ_MATCH_QUALITY_FLOOR
from safeguard.hashing.image_decoding import as_rgb_pixels
from safeguard.hashing.pdq import DIHEDRAL_ORDER, pdq_dihedral_of_pixels, pdq_of_pixels

WORK_SIDE = 256
"""Regions are found on a copy no larger than this on either side, then refined at full size."""

HASH_SIDE = 384
"""Regions are hashed from full-size pixels shrunk to at most this (PDQ works at 64x64)."""

MIN_REGION_SHARE = 0.08
"""A recovered region must cover at least this share of the picture's area."""

MIN_REGION_SIDE = 24
"""...and be at least this many working pixels on its shorter side."""

MAX_REGION_SHARE = 0.94
"""Regions covering more than this share are close enough to the whole picture to skip."""

NEAR_UNIFORM_STD = 6.0
"""Luma standard deviation (0-255) at 64x64 below which a picture is near-uniform."""

MIN_TEXTURED_BLOCK_SHARE = 0.2
"""Share of 8x8 blocks (of the 64x64 luma) that must carry visible detail."""

_TEXTURED_BLOCK_STD = 3.0
_SHAVE = 2  # working pixels cut after trimming: JPEG ringing of the border's edge

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right and bottom exclusive."""


@dataclass(frozen=True, slots=True)
class RecoveredHash:
    """One extra query hash and where it came from.

    Attributes:
        label: what was undone: ``trimmed``, ``trimmed-loose``, ``embedded`` or ``deskewed``.
        pdq: 64 hex digits.
        quality: PDQ quality of the region, 0-100.
        box: the region in the input's pixel coordinates (for ``deskewed``: the rotated
            picture's bounding box).
    """

    label: str
    pdq: str
    quality: int
    box: Box


def low_information_reason(rgb: npt.NDArray[np.uint8]) -> str | None:
    """Why a picture is unfit for perceptual matching, or None when it is fit.

    PDQ's quality alone lets through pictures that are almost flat with a little structure
    (a logo on a plain ground, a faint gradient with noise): their hash bits follow that
    little structure and such pictures collide with each other. Two checks on the 64x64
    luma PDQ itself sees: its standard deviation must reach `NEAR_UNIFORM_STD`, and at least
    `MIN_TEXTURED_BLOCK_SHARE` of its 8x8 blocks must show detail.
    """
    pixels = as_rgb_pixels(rgb)
    if pixels.shape[0] < 8 or pixels.shape[1] < 8:
        return "too small"
    luma = np.asarray(
        Image.fromarray(pixels).convert("L").resize((64, 64), Image.Resampling.BOX),
        dtype=np.float32,
    )
    if float(luma.std()) < NEAR_UNIFORM_STD:
        return "near-uniform"
    blocks = luma.reshape(8, 8, 8, 8).std(axis=(1, 3))
    if float((blocks >= _TEXTURED_BLOCK_STD).mean()) < MIN_TEXTURED_BLOCK_SHARE:
        return "low information"
    return None


def recovery_hashes(
    rgb: npt.NDArray[np.uint8], quality_floor: int = PDQ_MATCH_QUALITY_FLOOR
) -> tuple[RecoveredHash, ...]:
    """Extra labelled PDQ hashes of the regions that are probably the original picture.

    Args:
        rgb: decoded pixels (H x W x 3 RGB, H x W x 4 or H x W grey).
        quality_floor: regions whose PDQ quality is below this are left out.

    Returns:
        At most four hashes (usually none to two), each for a region distinct from the
        whole picture and from the others; empty when nothing looks edited.
    """
    pixels = as_rgb_pixels(rgb)
    work, scale = _working_copy(pixels)
    height, width = work.shape[:2]
    signed = work.astype(np.int16)
    whole = (0, 0, width, height)
    candidates: list[tuple[str, Box | None]] = [
        ("trimmed", _trim_sides(signed, whole, tolerance=12, share=0.97)),
        ("trimmed-loose", _trim_sides(signed, whole, tolerance=32, share=0.9)),
    ]
    candidates += [
        (label, box)
        for label, box in zip(("embedded", "embedded-loose"), _dominant_leaves(signed), strict=False)
    ]
    results: list[RecoveredHash] = []
    kept: list[Box] = []
    for label, box in candidates:
        if box is None or not _worth_hashing(box, width, height, kept):
            continue
        kept.append(box)
        full_box = _refine(pixels, _scaled(box, scale, pixels.shape), reach=math.ceil(2 * scale) + 2)
        region = pixels[full_box[1] : full_box[3], full_box[0] : full_box[2]]
        found = _hash_region(label, region, full_box, quality_floor)
        if found is not None:
            results.append(found)
    deskewed = _deskew(work)
    if deskewed is not None:
        upright, bounds = deskewed
        found = _hash_region("deskewed", upright, _scaled(bounds, scale, pixels.shape), quality_floor)
        if found is not None:
            results.append(found)
    return tuple(results)


def _working_copy(
    pixels: npt.NDArray[np.uint8], side: int = WORK_SIDE
) -> tuple[npt.NDArray[np.uint8], float]:
    """The pixels shrunk (box filter) to at most `side` a side, and the factor used."""
    height, width = pixels.shape[:2]
    scale = max(height, width) / side
    if scale <= 1:
        return pixels, 1.0
    size = (max(1, round(width / scale)), max(1, round(height / scale)))
    small = Image.fromarray(pixels).resize(size, Image.Resampling.BOX)
    return np.asarray(small), scale


def _scaled(box: Box, scale: float, shape: tuple[int, ...]) -> Box:
    return (
        max(0, math.floor(box[0] * scale)),
        max(0, math.floor(box[1] * scale)),
        min(shape[1], math.ceil(box[2] * scale)),
        min(shape[0], math.ceil(box[3] * scale)),
    )


def _hash_region(
    label: str, region: npt.NDArray[np.uint8], box: Box, quality_floor: int
) -> RecoveredHash | None:
    if min(region.shape[:2]) < MIN_REGION_SIDE // 2:
        return None
    small, _ = _working_copy(np.ascontiguousarray(region), HASH_SIDE)
    if low_information_reason(small) is not None:
        return None
    pdq, quality = pdq_of_pixels(np.ascontiguousarray(small))
    if quality < quality_floor:
        return None
    return RecoveredHash(label, pdq, quality, box)


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _worth_hashing(box: Box, width: int, height: int, kept: list[Box]) -> bool:
    left, top, right, bottom = box
    if min(right - left, bottom - top) < MIN_REGION_SIDE:
        return False
    share = _area(box) / (width * height)
    if not MIN_REGION_SHARE <= share <= MAX_REGION_SHARE:
        return False
    if max(right - left, bottom - top) > 5 * min(right - left, bottom - top):
        return False
    # PDQ moves several bits per 1% of crop, so only boxes within a pixel are repeats.
    return all(max(abs(a - b) for a, b in zip(box, other, strict=True)) > 1 for other in kept)


# --- uniform lines and trimming ------------------------------------------------------------


def _lines(block: npt.NDArray[np.int16], axis: int) -> npt.NDArray[np.int16]:
    return block if axis == 0 else block.transpose(1, 0, 2)


def _uniform_lines(
    block: npt.NDArray[np.int16],
    axis: int,
    tolerance: int,
    share: float,
    colour: npt.NDArray[np.int16] | None = None,
) -> npt.NDArray[np.bool_]:
    """For each row (axis=0) or column (axis=1) of `block`: is it one colour, give or take?

    A line is uniform when at least `share` of its pixels are within `tolerance` (per
    channel) of `colour`, or of the line's own median colour when `colour` is None.
    """
    lines = _lines(block, axis)
    if lines.shape[1] == 0:
        return np.ones(lines.shape[0], dtype=bool)
    if colour is None:
        reference = np.median(lines, axis=1, keepdims=True).astype(np.int16)
    else:
        reference = colour.reshape(1, 1, 3)
    diff = np.abs(lines - reference)
    # Channel by channel: numpy reduces a trailing axis of three slowly.
    close = diff[..., 0] <= tolerance
    close &= diff[..., 1] <= tolerance
    close &= diff[..., 2] <= tolerance
    result: npt.NDArray[np.bool_] = np.count_nonzero(close, axis=1) >= share * lines.shape[1]
    return result


def _leading_uniform(
    lines: npt.NDArray[np.int16],
    tolerance: int,
    share: float,
    colour: npt.NDArray[np.int16] | None,
) -> int:
    """Number of uniform lines at the start of `lines`, looking at as few as it can."""
    start, chunk = 0, 4
    while start < lines.shape[0]:
        flags = _uniform_lines(lines[start : start + chunk], 0, tolerance, share, colour)
        count = _leading(flags)
        if count < flags.size:
            return start + count
        start, chunk = start + chunk, chunk * 2
    return int(lines.shape[0])


def _leading(flags: npt.NDArray[np.bool_]) -> int:
    """Number of True values at the start of `flags`."""
    misses = np.flatnonzero(~flags)
    return int(misses[0]) if misses.size else int(flags.size)


_SIDES = ((1, False), (0, False), (1, True), (0, True))  # left, top, right, bottom


def _side_lines(block: npt.NDArray[np.int16], side: int) -> npt.NDArray[np.int16]:
    axis, flip = _SIDES[side]
    lines = _lines(block, axis)
    return lines[::-1] if flip else lines


def _side_steps(
    block: npt.NDArray[np.int16],
    tolerance: int,
    share: float,
    colours: list[npt.NDArray[np.int16]] | None,
    seam: int = 0,
) -> tuple[int, int, int, int]:
    """How many uniform lines to peel from the left, top, right and bottom of `block`.

    With `colours` each side is compared with its given colour (a frame's colour), so
    peeling stops where the picture starts even if the picture has a flat sky of another
    colour; with None every line is judged on its own.
    """
    steps = []
    for side in range(4):
        colour = None if colours is None else colours[side]
        lines = _side_lines(block, side)
        count = _leading_uniform(lines, tolerance, share, colour)
        if count < seam:
            after = _leading_uniform(lines[seam:], tolerance, share, colour)
            count = seam + after if after else count
        steps.append(count)
    return steps[0], steps[1], steps[2], steps[3]


def _trim(
    signed: npt.NDArray[np.int16],
    box: Box,
    tolerance: int,
    share: float,
    own_colour: bool,
    seam: int = 0,
) -> Box | None:
    """Peel uniform lines off each side of `box` until none is left; None if nothing remains.

    Unless `own_colour`, each side keeps the colour of its outermost line in `box` (of line
    `seam`, when the outer lines may be a blend of two colours) for every round, so a frame
    is peeled but the picture's own flat edge is not.
    """
    left, top, right, bottom = box
    colours = None
    if not own_colour and min(right - left, bottom - top) > 2 * seam + 1:
        block = signed[top:bottom, left:right]
        colours = [
            np.median(_side_lines(block, side)[seam], axis=0).astype(np.int16)
            for side in range(4)
        ]
    for round_ in range(4):
        if right - left < 2 or bottom - top < 2:
            return None
        steps = _side_steps(
            signed[top:bottom, left:right], tolerance, share, colours, seam if round_ == 0 else 0
        )
        if steps[0] + steps[2] >= right - left or steps[1] + steps[3] >= bottom - top:
            return None  # Nothing but uniform lines: flat, not framed.
        if not any(steps):
            break
        left, top, right, bottom = left + steps[0], top + steps[1], right - steps[2], bottom - steps[3]
    return (left, top, right, bottom)


def _trim_sides(signed: npt.NDArray[np.int16], box: Box, tolerance: int, share: float) -> Box | None:
    return _trim(signed, box, tolerance, share, own_colour=False)


def _refine(pixels: npt.NDArray[np.uint8], box: Box, reach: int) -> Box:
    """Peel the few border lines a box found at working scale still holds, at full scale."""
    left, top, right, bottom = box
    if min(right - left, bottom - top) <= 4 * reach:
        return box
    block = pixels[top:bottom, left:right].astype(np.int16)
    edges = (
        block[:, :reach].transpose(1, 0, 2),
        block[:reach],
        block[:, -reach:][:, ::-1].transpose(1, 0, 2),
        block[-reach:][::-1],
    )
    steps = [_leading(_uniform_lines(edge, 0, 20, 0.9)) for edge in edges]
    return (left + steps[0], top + steps[1], right - steps[2], bottom - steps[3])


# --- dominant embedded picture (XY-cut) ---------------------------------------------------


def _gap_split(flags: npt.NDArray[np.bool_], min_gap: int) -> list[tuple[int, int]]:
    """Parts of [0, len(flags)) left when every inner run of `min_gap` or more True is cut out.

    Uniform lines at either end stay with their neighbours: a flat sky at a picture's top
    edge is not a gap.
    """
    parts: list[tuple[int, int]] = []
    start = 0
    run_start: int | None = None
    for index, uniform in enumerate(flags.tolist()):
        if uniform:
            if run_start is None:
                run_start = index
            continue
        if run_start is not None and run_start > start and index - run_start >= min_gap:
            parts.append((start, run_start))
            start = index
        run_start = None
    parts.append((start, int(flags.size)))
    return parts


def _xy_cut(signed: npt.NDArray[np.int16], box: Box, depth: int, leaves: list[Box]) -> None:
    trimmed = _trim(signed, box, tolerance=10, share=0.985, own_colour=False)
    if trimmed is None:
        return
    left, top, right, bottom = trimmed
    if right - left < MIN_REGION_SIDE or bottom - top < MIN_REGION_SIDE:
        return
    if depth > 0:
        block = signed[top:bottom, left:right]
        for axis in (0, 1):
            runs = _gap_split(_uniform_lines(block, axis, 10, 0.985), min_gap=1)
            if len(runs) > 1:
                for start, end in runs:
                    part = (
                        (left, top + start, right, top + end)
                        if axis == 0
                        else (left + start, top, left + end, bottom)
                    )
                    _xy_cut(signed, part, depth - 1, leaves)
                return
    leaves.append(trimmed)


def _dominant_leaves(signed: npt.NDArray[np.int16]) -> list[Box]:
    """The largest photo-like region left after cutting along uniform gaps, as cut and trimmed.

    Two boxes: the leaf as the cuts left it, and the leaf loosely trimmed of what a strict
    cut cannot remove (a chat bubble's margin with a timestamp in it, rounded corners, a
    thin caption strip). The loose one is wrong when the picture itself has a flat margin
    (a fundus photo's black surround), hence both.
    """
    height, width = signed.shape[:2]
    leaves: list[Box] = []
    _xy_cut(signed, (0, 0, width, height), depth=6, leaves=leaves)
    for leaf in sorted(leaves, key=_area, reverse=True):
        if _area(leaf) < MIN_REGION_SHARE * width * height:
            break
        region = signed[leaf[1] : leaf[3], leaf[0] : leaf[2]].astype(np.uint8)
        if low_information_reason(region) is None:
            loose = _trim(signed, leaf, tolerance=16, share=0.8, own_colour=False, seam=1)
            return [leaf] if loose is None else [leaf, loose]
    return []


# --- small rotations with filled corners -------------------------------------------------


def _edge_slope(positions: npt.NDArray[np.float64]) -> float | None:
    """Slope of a boundary given as one position per line, fitted over its middle half."""
    valid = np.flatnonzero(positions >= 0)
    if valid.size < 16:
        return None
    first, last = int(valid[0]), int(valid[-1])
    middle = np.arange(first + (last - first) // 4, last - (last - first) // 4)
    middle = middle[positions[middle] >= 0]
    if middle.size < 8:
        return None
    slope, _ = np.polyfit(middle.astype(np.float64), positions[middle], 1)
    return float(slope)


def _deskew(work: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], Box] | None:
    """Undo a rotation by 1-15 degrees whose corners were filled with one colour.

    The angle is fitted to each of the four edges of the non-fill area; the four estimates
    must agree before anything is rotated. Returns the upright picture (working scale) and
    the rotated picture's bounding box in working coordinates.
    """
    height, width = work.shape[:2]
    if min(height, width) < 2 * MIN_REGION_SIDE:
        return None
    signed = work.astype(np.int16)
    corners = np.stack(
        [signed[:3, :3], signed[:3, -3:], signed[-3:, :3], signed[-3:, -3:]]
    ).reshape(-1, 3)
    fill = np.median(corners, axis=0).astype(np.int16)
    if int(np.abs(corners - fill).max()) > 24:
        return None
    content = (np.abs(signed - fill) > 40).any(axis=2)
    # Keep pixels whose four neighbours are content too: drops isolated JPEG noise.
    core = content.copy()
    core[1:-1, 1:-1] &= (
        content[:-2, 1:-1] & content[2:, 1:-1] & content[1:-1, :-2] & content[1:-1, 2:]
    )
    rows, cols = core.any(axis=1), core.any(axis=0)
    if rows.sum() < 2 * MIN_REGION_SIDE or cols.sum() < 2 * MIN_REGION_SIDE:
        return None
    left_x = np.where(rows, core.argmax(axis=1), -1).astype(np.float64)
    right_x = np.where(rows, width - 1 - core[:, ::-1].argmax(axis=1), -1).astype(np.float64)
    top_y = np.where(cols, core.argmax(axis=0), -1).astype(np.float64)
    bottom_y = np.where(cols, height - 1 - core[::-1].argmax(axis=0), -1).astype(np.float64)
    slopes = [_edge_slope(left_x), _edge_slope(right_x), _edge_slope(top_y), _edge_slope(bottom_y)]
    if any(s is None for s in slopes):
        return None
    # Clockwise turn by a: vertical edges get dx/dy = -tan a, horizontal ones dy/dx = tan a.
    estimates = [
        -math.degrees(math.atan(slopes[0] or 0.0)),
        -math.degrees(math.atan(slopes[1] or 0.0)),
        math.degrees(math.atan(slopes[2] or 0.0)),
        math.degrees(math.atan(slopes[3] or 0.0)),
    ]
    # An edge can be misread where the picture is as dark (or light) as the fill; trust
    # the angle that at least two edges agree on within half a degree.
    agreeing = max(([e for e in estimates if abs(e - pivot) <= 0.5] for pivot in estimates), key=len)
    angle = float(np.mean(agreeing))
    if len(agreeing) < 2 or not 1.0 <= abs(angle) <= 15.0:
        return None
    fill_colour = (int(fill[0]), int(fill[1]), int(fill[2]))
    upright = np.asarray(
        Image.fromarray(work).rotate(
            angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=fill_colour
        )
    )
    box = _trim(upright.astype(np.int16), (0, 0, upright.shape[1], upright.shape[0]), 40, 0.9, own_colour=False)
    if box is None or min(box[2] - box[0], box[3] - box[1]) < MIN_REGION_SIDE:
        return None
    inset = 1 + round(0.004 * max(box[2] - box[0], box[3] - box[1]))
    picture = upright[box[1] + inset : box[3] - inset, box[0] + inset : box[2] - inset]
    bounds = (
        int(cols.argmax()),
        int(rows.argmax()),
        int(width - cols[::-1].argmax()),
        int(height - rows[::-1].argmax()),
    )
    return np.ascontiguousarray(picture), bounds


def query_hashes(
    rgb: npt.NDArray[np.uint8],
    quality_floor: int = PDQ_MATCH_QUALITY_FLOOR,
    recovery: bool = True,
) -> tuple[tuple[str, str], ...]:
    """Every hash to search for one query: (label, pdq), dihedral variants then recovered.

    The whole-picture hashes (``original`` and the seven dihedral variants, labels from
    `safeguard.hashing.pdq.DIHEDRAL_ORDER`) are left out when the picture is unfit
    (quality below `quality_floor` or `low_information_reason`); each recovered region is
    judged on its own.
    """
    pixels = as_rgb_pixels(rgb)
    found: list[tuple[str, str]] = []
    hashes, quality = pdq_dihedral_of_pixels(pixels)
    if quality >= quality_floor and low_information_reason(pixels) is None:
        found += list(zip(DIHEDRAL_ORDER, hashes, strict=True))
    if recovery:
        found += [(r.label, r.pdq) for r in recovery_hashes(pixels, quality_floor)]
    return tuple(found)
