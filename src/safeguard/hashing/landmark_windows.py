"""Hashes of square windows centred on landmarks of the picture: found again after a crop.

PDQ looks at the whole frame, and moving the frame by 1% of its side moves about 25 of the
256 bits, so a copy cut at an arbitrary offset lands far from the original's hash and from
any fixed grid of stored crops. A window placed by the picture's *content* instead moves
with the content: both sides find the same landmarks (the strongest blobs of a blurred
luma, bright or dark: difference of Gaussians, refined to a fraction of a pixel) and hash a
square window centred on each. The window's side is a share of the picture's shorter side,
which a crop changes; the query uses its own shorter side, and the known side stores
windows for a grid of kept shares (`KEPT_SHARES`), so a copy keeping one of them is met.

The same function serves both sides (`landmark_windows`): the query calls it with kept
share 1 (it does not know what it lost; `safeguard.hashing.recovery`), the list keeper once
per share in `KEPT_SHARES` (`safeguard.hashing.augmentation`), on a copy enlarged by
1 / share so both see the crop at the same pixel scale. Landmarks must agree to a fraction
of a pixel (a window moved by 1% of its side is about 25 bits away), hence the 256-pixel
copy and the parabola fitted through each peak. Window hashes are PDQ of the window's luma
resampled to `WINDOW_PIXELS` a side, compared with stored window hashes; they are not
meant to equal reference PDQ of anything.

Windows are searched in pairs (`paired`): one window of a simple layout (a dark block
beside a bright one) can lie within 31 bits of an unrelated texture, two at once hardly
ever; windows of one picture that repeat one another are dropped first (`distinct_windows`).

A window also leaves out what an overlay paints near the edges (a banner, a caption, a
corner watermark) when its landmark lies inside.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PIL import Image

from safeguard.domain.digests import hamming_distance

LANDMARK_SIDE = 256
"""Landmarks are found on a copy at most this many pixels a side."""

BLOB_SIGMA = 0.04
"""Gaussian scale of a landmark blob, as a share of the shorter side (the second blur
is `_SIGMA_RATIO` times wider; their difference responds to blobs of about this size)."""

_SIGMA_RATIO = 1.6

_BOX_PASSES = 2
"""Box filters per axis standing in for each Gaussian (two were as precise as three)."""

WINDOW_SHARE = 0.5
"""A window's side as a share of the (nominal) shorter side."""

WINDOW_PIXELS = 64
"""Windows are resampled to this many pixels a side before hashing (PDQ's own grid)."""

KEPT_SHARES: tuple[float, ...] = (1.0, 0.9, 0.85, 0.8, 0.75, 0.7)
"""Shares of each side a crop may keep, for which the known side stores windows: a grid in
5% steps, like the stored crops (`safeguard.hashing.augmentation.CROP_SCALES`); share 1
serves copies with an overlay or re-encoded, resized or mirrored."""


REPEAT_DISTANCE = 64
"""Windows of one picture whose hashes are this close (bits of 256) are repeats of one
pattern (a grating, a checkerboard, bricks, a coarse two-tone layout): a landmark that
looks like another one is not a landmark, and such windows meet unrelated textures.
Hashes of unrelated windows lie about 128 bits apart."""


def distinct_windows(hashes: list[str]) -> list[bool]:
    """For each window hash of one picture: is it far from every other one (keep it)?"""
    return [
        all(
            hamming_distance(value, other) > REPEAT_DISTANCE
            for j, other in enumerate(hashes)
            if j != i
        )
        for i, value in enumerate(hashes)
    ]


def paired(windows: list[tuple[str, float, str]]) -> list[tuple[str, str]]:
    """Hashes of pairs of windows: (label, PDQ-sized hash), for every two of `windows`.

    Each window is (label, centre x, PDQ hex). A pair's hash is the first half of the left
    window's hash followed by the first half of the right one's (left and right stay so
    after any crop), so its distance to a stored pair is about half the sum of the two
    windows' distances: a pair matches only when both of its windows do. One window of a
    simple layout can meet an unrelated texture by chance; two at once rarely do.
    """
    ordered = sorted(windows, key=lambda window: window[1])
    return [
        (f"{left[0]}+{right[0]}", left[2][:32] + right[2][:32])
        for index, left in enumerate(ordered)
        for right in ordered[index + 1 :]
    ]


def _box_pass(values: npt.NDArray[np.float32], radius: int) -> npt.NDArray[np.float32]:
    """Sums over windows of 2 * radius + 1 along the first axis, zeros beyond the edges."""
    summed = np.zeros((values.shape[0] + 2 * radius + 1, *values.shape[1:]), np.float32)
    np.cumsum(values, axis=0, out=summed[radius + 1 : radius + 1 + values.shape[0]])
    summed[radius + 1 + values.shape[0] :] = summed[radius + values.shape[0]]
    result: npt.NDArray[np.float32] = summed[2 * radius + 1 :] - summed[: values.shape[0]]
    return result


def _blurred(luma: npt.NDArray[np.float32], sigma: float) -> npt.NDArray[np.float32]:
    """Box passes along each axis (close to a Gaussian of `sigma`), renormalised at the edges.

    Boxes rather than a Gaussian kernel: cumulative sums cost the same for any width, and
    numpy's matrix products would start threads.
    """
    # n boxes of width 2r + 1 have the variance n r (r + 1) / 3.
    radius = max(1, round(math.sqrt(3 * sigma * sigma / _BOX_PASSES + 0.25) - 0.5))
    blurred = luma
    for _ in range(_BOX_PASSES):
        blurred = _box_pass(blurred, radius)
    blurred = np.ascontiguousarray(blurred.T)
    for _ in range(_BOX_PASSES):
        blurred = _box_pass(blurred, radius)
    rows = np.ones((luma.shape[0], 1), np.float32)
    columns = np.ones((luma.shape[1], 1), np.float32)
    for _ in range(_BOX_PASSES):
        rows, columns = _box_pass(rows, radius), _box_pass(columns, radius)
    result: npt.NDArray[np.float32] = blurred.T / (rows * columns.T)
    return result


def _luma_copy(rgb: npt.NDArray[np.uint8], side: float) -> tuple[npt.NDArray[np.float32], float]:
    """Luma at most `side` pixels a side and the factor from it to the input's pixels."""
    image = Image.fromarray(rgb)
    scale = max(image.size) / side
    if scale > 1:
        if scale >= 2:
            image = image.reduce(int(scale))
        image = image.resize(
            (max(1, round(rgb.shape[1] / scale)), max(1, round(rgb.shape[0] / scale))),
            Image.Resampling.BOX,
        )
    else:
        scale = 1.0
    luma = np.asarray(image.convert("L"), dtype=np.float32)
    return luma, rgb.shape[1] / luma.shape[1]


def landmarks(
    luma: npt.NDArray[np.float32], nominal_side: float, margin: float, count: int
) -> list[tuple[float, float]]:
    """The `count` strongest blob centres (x, y), at least `margin` pixels from every edge.

    Args:
        luma: the picture's luma.
        nominal_side: the shorter side the blob scale is a share of (a crop's, for the
            known side's guesses).
        margin: centres closer than this to an edge are left out (their window would not fit).
        count: how many to return, strongest first.
    """
    sigma = BLOB_SIGMA * nominal_side
    response = np.abs(_blurred(luma, sigma) - _blurred(luma, sigma * _SIGMA_RATIO))
    height, width = response.shape
    # At least one pixel in from the edge, so every candidate has eight neighbours.
    lo_x, hi_x = max(1, math.ceil(margin)), min(width - 2, math.floor(width - 1 - margin))
    lo_y, hi_y = max(1, math.ceil(margin)), min(height - 2, math.floor(height - 1 - margin))
    if lo_x > hi_x or lo_y > hi_y:
        return []
    # Local maxima among the 8 neighbours, looked for only where a window fits.
    centre = response[lo_y : hi_y + 1, lo_x : hi_x + 1]
    peak = np.ones(centre.shape, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                peak &= centre > response[lo_y + dy : hi_y + 1 + dy, lo_x + dx : hi_x + 1 + dx]
    ys, xs = np.nonzero(peak)
    ys, xs = ys + lo_y, xs + lo_x
    order = np.argsort(-response[ys, xs], kind="stable")
    found: list[tuple[float, float]] = []
    spacing = 2 * sigma
    for index in order:
        y, x = int(ys[index]), int(xs[index])
        fx = x + _vertex(response[y, x - 1], response[y, x], response[y, x + 1])
        fy = y + _vertex(response[y - 1, x], response[y, x], response[y + 1, x])
        if all(math.hypot(fx - px, fy - py) >= spacing for px, py in found):
            found.append((fx, fy))
            if len(found) == count:
                break
    return found


def _vertex(before: float, at: float, after: float) -> float:
    """Offset (-0.5..0.5) of the top of the parabola through three neighbouring samples."""
    curvature = before - 2 * at + after
    if curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))


def landmark_windows(
    rgb: npt.NDArray[np.uint8],
    kept_share: float = 1.0,
    count: int = 3,
    working: npt.NDArray[np.uint8] | None = None,
) -> list[tuple[tuple[float, float, float, float], npt.NDArray[np.uint8]]]:
    """(box, luma pixels) of square windows centred on the strongest landmarks, strongest first.

    Args:
        rgb: H x W x 3 pixels.
        kept_share: the share of each side a crop of this picture would keep; blob scale
            and window side follow the crop's shorter side, not this picture's.
        count: landmarks to use.
        working: the caller's copy of `rgb` shrunk (box filter) to at most `LANDMARK_SIDE`
            a side, to save making another; only with `kept_share` 1.

    Returns:
        Each window's box (left, top, right, bottom) in `rgb`'s pixels, fractional, and
        its luma resampled to `WINDOW_PIXELS` a side (PDQ looks at luma alone).
    """
    if working is not None and kept_share == 1.0:
        luma = np.asarray(Image.fromarray(working).convert("L"), dtype=np.float32)
        factor = rgb.shape[1] / luma.shape[1]
    else:
        # The known side looks at a larger copy, so a crop keeping `kept_share` seen at
        # LANDMARK_SIDE has the same pixel scale as this copy: same blur, same windows.
        luma, factor = _luma_copy(rgb, LANDMARK_SIDE / kept_share)
    nominal = min(luma.shape) * kept_share
    half = WINDOW_SHARE * nominal / 2
    image = Image.fromarray(luma)
    windows = []
    for x, y in landmarks(luma, nominal, half + 1, count):
        box = (x + 0.5 - half, y + 0.5 - half, x + 0.5 + half, y + 0.5 + half)
        window = image.resize((WINDOW_PIXELS, WINDOW_PIXELS), Image.Resampling.BILINEAR, box=box)
        pixels = np.clip(np.asarray(window) + 0.5, 0, 255).astype(np.uint8)
        left, top, right, bottom = (side * factor for side in box)
        windows.append(((left, top, right, bottom), pixels))
    return windows
