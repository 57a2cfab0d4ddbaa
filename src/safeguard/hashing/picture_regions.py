"""Where the original picture sits inside an edited copy: frames, layout gaps, skew.

Geometry on decoded pixels for `safeguard.hashing.recovery`, which decides what to hash:

* `trim` peels uniform lines off the sides of a box (each side compared with its own
  frame colour, or every line with its own median colour);
* `layout_leaves` cuts a screenshot-like picture recursively along uniform gaps (the
  XY-cut of document layout analysis) and returns the leaves;
* `refine` peels the few frame lines a box found at reduced scale still holds;
* `deskew` turns a picture rotated by a few degrees with filled corners back upright.

All work on ``int16`` copies (H x W x 3) so differences do not wrap around.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from PIL import Image

MIN_REGION_SIDE = 24
"""Regions shorter than this many working pixels on a side are not pictures worth hashing."""

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right and bottom exclusive."""


def area(box: Box) -> int:
    """Pixels inside `box` (0 when empty)."""
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


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
        # Every fourth pixel gives the dominant colour as well, at a quarter of the cost.
        sample = lines[:, ::4] if lines.shape[1] >= 64 else lines
        reference = np.median(sample, axis=1, keepdims=True).astype(np.int16)
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


def trim(
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
            np.median(_side_lines(block, side)[seam], axis=0).astype(np.int16) for side in range(4)
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
        left, top, right, bottom = (
            left + steps[0],
            top + steps[1],
            right - steps[2],
            bottom - steps[3],
        )
    return (left, top, right, bottom)


def refine(pixels: npt.NDArray[np.uint8], box: Box, reach: int) -> Box:
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
    trimmed = trim(signed, box, tolerance=10, share=0.985, own_colour=False)
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


def deskew(
    work: npt.NDArray[np.uint8],
    detail: Callable[[], npt.NDArray[np.uint8]] | None = None,
) -> tuple[npt.NDArray[np.uint8], Box] | None:
    """Undo a rotation by 1-15 degrees whose corners were filled with one colour.

    The angle is fitted to each of the four edges of the non-fill area of `work`; the four
    estimates must agree before anything is rotated. The picture turned upright is cut from
    what `detail` returns (a larger copy of the same pixels, since PDQ needs more than a
    working copy keeps; asked for only once a rotation is found) or from `work` when None. Returns it and the rotated picture's bounding box in
    `work` coordinates.
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
    agreeing = max(
        ([e for e in estimates if abs(e - pivot) <= 0.5] for pivot in estimates), key=len
    )
    angle = float(np.mean(agreeing))
    if len(agreeing) < 2 or not 1.0 <= abs(angle) <= 15.0:
        return None
    fill_colour = (int(fill[0]), int(fill[1]), int(fill[2]))
    upright = np.asarray(
        Image.fromarray(work if detail is None else detail()).rotate(
            angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill_colour
        )
    )
    box = trim(
        upright.astype(np.int16),
        (0, 0, upright.shape[1], upright.shape[0]),
        40,
        0.9,
        own_colour=False,
    )
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


def layout_leaves(signed: npt.NDArray[np.int16], depth: int = 6) -> list[Box]:
    """The regions left after cutting along uniform gaps, largest first."""
    height, width = signed.shape[:2]
    leaves: list[Box] = []
    _xy_cut(signed, (0, 0, width, height), depth, leaves)
    return sorted(leaves, key=area, reverse=True)
