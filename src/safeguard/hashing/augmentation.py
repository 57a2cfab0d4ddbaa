"""Known-side augmentation: extra PDQ hashes to store for an original picture that is held.

A crop cannot be undone from the query: the missing part is gone. When Safeguard holds the
original (an examiner's graded library built up case after case), it can instead store the
hashes of likely crops of it, so a cropped copy lands near one of them. PDQ moves several
bits per 1% of crop, so the crops form a grid: four scales (90%, 85%, 80% and 70% of each
side), each at the centre, the four corners and the four edge midpoints, plus the picture
cut by 15% on one side, and turned by 3 degrees each way (cut to the upright rectangle
inside). Each stored hash carries a label such as ``crop-90-centre`` or ``rotate-3-ccw``,
so a match says which of them was near.

A fixed grid meets only crops near its positions: PDQ moves about 25 bits when the frame
moves by 1% of its side. So the original's landmark windows are stored too, in pairs
(``landmarks-<kept share>-<rank>-<rank>``, `safeguard.hashing.landmark_windows`): squares
centred on its strongest blobs, for each share of the sides a crop may keep; the query
hashes its own (`safeguard.hashing.recovery`), and a crop keeping one of those shares at
any offset, or a copy whose overlay spares two windows, meets one of the pairs. About 400
hashes per original in all, most of them pairs.

Store them as extra entries of the list with ids ``<original id>#<label>`` (see
`safeguard.services.examiner.robust_matching`), so a match still names the original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from safeguard.domain.file_hashes import PDQ_MATCH_QUALITY_FLOOR
from safeguard.hashing.image_decoding import as_rgb_pixels
from safeguard.hashing.landmark_windows import (
    KEPT_SHARES,
    distinct_windows,
    landmark_windows,
    paired,
)
from safeguard.hashing.pdq import pdq_of_pixels
from safeguard.hashing.region_hashes import HASH_SIDE, low_information_reason

CROP_SCALES: tuple[int, ...] = (90, 85, 80, 70)
"""Kept share of width and height, in percent."""

CROP_POSITIONS: dict[str, tuple[float, float]] = {
    "centre": (0.5, 0.5),
    "top-left": (0.0, 0.0),
    "top": (0.5, 0.0),
    "top-right": (1.0, 0.0),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "bottom-left": (0.0, 1.0),
    "bottom": (0.5, 1.0),
    "bottom-right": (1.0, 1.0),
}
"""Where the kept window sits: share of the spare width and height left of and above it."""

SIDE_CUT = 15
"""Percent cut from a single side for the ``cut-15-<side>`` hashes."""

ROTATION_DEGREES = 3.0

STORED_LANDMARKS = 14
"""Landmark windows per kept share (`safeguard.hashing.landmark_windows`), stored as every
pair of them: up to 91 hashes per share. A crop keeping 70% loses many of a picture's
strongest landmarks, so the query's few strongest must be found among more of them."""


@dataclass(frozen=True, slots=True)
class AugmentedHash:
    """One stored extra hash of an original.

    Attributes:
        label: which derived picture, e.g. ``crop-80-top-left``, ``cut-15-left``, ``rotate-3-cw``.
        pdq: 64 hex digits.
        quality: PDQ quality of the derived picture.
    """

    label: str
    pdq: str
    quality: int


def augmentation_windows(width: int, height: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """The labelled crop windows (left, top, right, bottom) for a picture of this size."""
    windows: list[tuple[str, tuple[int, int, int, int]]] = []
    for scale in CROP_SCALES:
        cw, ch = round(width * scale / 100), round(height * scale / 100)
        for name, (fx, fy) in CROP_POSITIONS.items():
            x0, y0 = round((width - cw) * fx), round((height - ch) * fy)
            windows.append((f"crop-{scale}-{name}", (x0, y0, x0 + cw, y0 + ch)))
    cut_w, cut_h = round(width * SIDE_CUT / 100), round(height * SIDE_CUT / 100)
    windows += [
        (f"cut-{SIDE_CUT}-top", (0, cut_h, width, height)),
        (f"cut-{SIDE_CUT}-bottom", (0, 0, width, height - cut_h)),
        (f"cut-{SIDE_CUT}-left", (cut_w, 0, width, height)),
        (f"cut-{SIDE_CUT}-right", (0, 0, width - cut_w, height)),
    ]
    return windows


def _rotated_inner(image: Image.Image, degrees: float) -> Image.Image:
    """Turn by `degrees` (counter-clockwise); keep the largest upright inner rectangle."""
    width, height = image.size
    radians = math.radians(abs(degrees))
    scale = 1 / (math.cos(radians) + max(width / height, height / width) * math.sin(radians))
    cw, ch = round(width * scale), round(height * scale)
    turned = image.rotate(degrees, resample=Image.Resampling.BICUBIC)
    return turned.crop(
        ((width - cw) // 2, (height - ch) // 2, (width + cw) // 2, (height + ch) // 2)
    )


def augmentation_hashes(
    rgb: npt.NDArray[np.uint8], quality_floor: int = PDQ_MATCH_QUALITY_FLOOR
) -> tuple[AugmentedHash, ...]:
    """The extra hashes to store for an original (about 400; fewer when some are unfit).

    The original's own hash is not among them. Derived pictures whose PDQ quality is below
    `quality_floor` or that carry too little information are left out.
    """
    pixels = as_rgb_pixels(rgb)
    image = Image.fromarray(pixels)
    scale = max(image.size) / HASH_SIDE
    if scale > 1:  # PDQ works at 64x64; a smaller copy keeps this cheap and changes little.
        image = image.resize(
            (round(image.width / scale), round(image.height / scale)), Image.Resampling.BOX
        )
    derived = [(label, image.crop(box)) for label, box in augmentation_windows(*image.size)]
    derived += [
        (f"rotate-{ROTATION_DEGREES:g}-ccw", _rotated_inner(image, ROTATION_DEGREES)),
        (f"rotate-{ROTATION_DEGREES:g}-cw", _rotated_inner(image, -ROTATION_DEGREES)),
    ]
    results = _fit_hashes(derived, quality_floor)
    for share in KEPT_SHARES:
        windows = landmark_windows(pixels, share, STORED_LANDMARKS)
        centres = {f"{rank}": (box[0] + box[2]) / 2 for rank, (box, _) in enumerate(windows)}
        named = [(f"{rank}", Image.fromarray(window)) for rank, (_, window) in enumerate(windows)]
        fit = _fit_hashes(named, quality_floor)
        # As on the query side: windows that repeat one another are not landmarks.
        keep = distinct_windows([found.pdq for found in fit])
        kept = [(f.label, centres[f.label], f.pdq) for f, k in zip(fit, keep, strict=True) if k]
        quality = {f.label: f.quality for f in fit}
        results += [
            AugmentedHash(
                f"landmarks-{round(share * 100)}-{label.replace('+', '-')}",
                pdq,
                min(quality[name] for name in label.split("+")),
            )
            for label, pdq in paired(kept)
        ]
    return tuple(results)


def _fit_hashes(derived: list[tuple[str, Image.Image]], quality_floor: int) -> list[AugmentedHash]:
    results: list[AugmentedHash] = []
    for label, picture in derived:
        array = np.asarray(picture)
        if low_information_reason(array) is not None:
            continue
        pdq, quality = pdq_of_pixels(array)
        if quality >= quality_floor:
            results.append(AugmentedHash(label, pdq, quality))
    return results
