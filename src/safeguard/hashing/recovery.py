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
  captions, chat bubbles and sidebars fall away and the largest photo-like leaf remains;
  ``embedded-loose`` is that leaf loosely trimmed of a bubble's margin or a thin strip.
* ``deskewed``: a picture rotated by a few degrees with its corners filled by one colour is
  turned back upright and cut to its rectangle.
* ``uncaptioned``, ``unbannered-top``/``-bottom`` and ``unrotated-<deg>-cw``/``-ccw``: a
  meme caption or a banner painted over the picture is filled in from around it, and a copy
  turned by a few degrees and cut to its inner rectangle is turned back with its lost corners
  guessed (`safeguard.hashing.occlusion`).

* ``landmarks-<rank>-<rank>``: pairs of square windows centred on the picture's strongest
  blobs (`safeguard.hashing.landmark_windows`); they meet the pairs a list keeper stored
  with the list (`safeguard.hashing.augmentation`), so a crop at any offset and a copy
  whose overlay spares two windows are found.

The eight dihedral variants (rotations by 90 degrees, mirrors) are not made here: they come
almost free from PDQ's DCT (`safeguard.hashing.pdq.pdq_dihedral_of_pixels`). Crops cannot be
undone from the query alone; the known side stores crops instead
(`safeguard.hashing.augmentation`).

Every extra hash is one more chance of a false match, so variants whose region is nearly
the whole picture or repeats another variant are dropped, and a region must pass the same
guards as a whole picture: PDQ quality at the floor and `low_information_reason` None.
Regions are found on a copy at most `WORK_SIDE` pixels on a side (the geometry lives in
`safeguard.hashing.picture_regions`; the copy is made once per query and shared with the
occlusion and landmark steps), refined at full size, and hashed from full-size pixels
shrunk to at most `HASH_SIDE` (`safeguard.hashing.region_hashes`, which also holds
`low_information_reason` and `RecoveredHash`): each region costs about one PDQ hash of a
384-pixel picture (about 2 ms, its seven rotations and mirrors included). Every step on every query costs
several plain PDQ hashes; a matcher that searches the whole picture's hashes first and
recovers only on a miss (`query_hashes(..., already_matched=...)`) pays that only for
copies the plain hash misses (``docs/robustness.md`` measures both).
Every returned hash carries its label and box, so a reviewer sees which region matched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

from safeguard.domain.file_hashes import PDQ_MATCH_QUALITY_FLOOR
from safeguard.hashing.image_decoding import as_rgb_pixels
from safeguard.hashing.landmark_windows import distinct_windows, landmark_windows, paired
from safeguard.hashing.occlusion import ROTATIONS, unbannered, uncaptioned, unrotated
from safeguard.hashing.pdq import DIHEDRAL_ORDER, pdq_dihedral_of_pixels
from safeguard.hashing.picture_regions import (
    MIN_REGION_SIDE,
    Box,
    area,
    deskew,
    layout_leaves,
    refine,
    trim,
)
from safeguard.hashing.region_hashes import (
    HASH_SIDE,
    RecoveredHash,
    hash_region,
    low_information_reason,
    working_copy,
)

WORK_SIDE = 256
"""Regions are found on a copy no larger than this on either side, then refined at full size."""

DESKEW_SIDE = 512
"""A picture found turned is turned back at this size (rare, so the cost hardly counts)."""

MIN_REGION_SHARE = 0.08
"""A recovered region must cover at least this share of the picture's area."""

MAX_REGION_SHARE = 0.94
"""Regions covering more than this share are close enough to the whole picture to skip."""

QUERY_LANDMARKS = 4
"""Landmark windows hashed per query (`safeguard.hashing.landmark_windows`); the known side
stores more (`safeguard.hashing.augmentation.STORED_LANDMARKS`), since a crop can take
away some of a picture's strongest landmarks."""


def recovery_hashes(
    rgb: npt.NDArray[np.uint8],
    quality_floor: int = PDQ_MATCH_QUALITY_FLOOR,
    dihedral: bool = False,
    occlusion: bool = True,
    landmarks: bool = True,
) -> tuple[RecoveredHash, ...]:
    """Extra labelled PDQ hashes of the regions that are probably the original picture.

    Args:
        rgb: decoded pixels (H x W x 3 RGB, H x W x 4 or H x W grey).
        quality_floor: regions whose PDQ quality is below this are left out.
        dihedral: also give each region's seven rotations and mirrors (same cost: PDQ
            derives them from one DCT).
        occlusion: also fill in captions and banners and turn small rotations back
            (`safeguard.hashing.occlusion`; about a third of the cost of recovery).
        landmarks: also hash pairs of `QUERY_LANDMARKS` windows centred on the picture's
            landmarks (``landmarks-<rank>-<rank>``, `safeguard.hashing.landmark_windows`);
            they meet the pairs a list keeper stored (`safeguard.hashing.augmentation`), so
            a crop at any offset or a copy with an overlay near an edge is found.

    Returns:
        The regions found (usually none to two), the two turned-back guesses
        (``unrotated-*``, always tried: a small rotation leaves no trace to detect), each
        distinct from the whole picture, and the landmark window pairs.
    """
    pixels = as_rgb_pixels(rgb)
    return _recovered(pixels, _shrunk_copies(pixels), quality_floor, dihedral, occlusion, landmarks)


def _shrunk_copies(
    pixels: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], float]:
    """The picture at most `HASH_SIDE` and at most `WORK_SIDE` a side, and the second's factor.

    Made once per query and shared by every step: shrinking a large picture costs about as
    much as hashing it. The smaller copy is made from the larger, not from full size.
    """
    image = Image.fromarray(pixels) if max(pixels.shape[:2]) > WORK_SIDE else None
    medium = np.ascontiguousarray(working_copy(pixels, HASH_SIDE, image)[0])
    # From full size, as the known side makes its copies (landmark windows must agree).
    work = np.ascontiguousarray(working_copy(pixels, WORK_SIDE, image)[0])
    return medium, work, max(pixels.shape[:2]) / max(work.shape[:2])


def _recovered(
    pixels: npt.NDArray[np.uint8],
    copies: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], float],
    quality_floor: int,
    dihedral: bool,
    occlusion: bool,
    landmarks: bool = True,
) -> tuple[RecoveredHash, ...]:
    medium, work, scale = copies
    height, width = work.shape[:2]
    signed = work.astype(np.int16)
    whole = (0, 0, width, height)
    candidates: list[tuple[str, Box | None]] = [
        ("trimmed", trim(signed, whole, tolerance=12, share=0.97, own_colour=False)),
        ("trimmed-loose", trim(signed, whole, tolerance=32, share=0.9, own_colour=False)),
    ]
    candidates += [
        (label, box)
        for label, box in zip(
            ("embedded", "embedded-loose"), _dominant_leaves(signed), strict=False
        )
    ]
    results: list[RecoveredHash] = []
    kept: list[Box] = []
    for label, box in candidates:
        if box is None or not _worth_hashing(box, width, height, kept):
            continue
        kept.append(box)
        full_box = refine(pixels, _scaled(box, scale, pixels.shape), reach=math.ceil(2 * scale) + 2)
        region = pixels[full_box[1] : full_box[3], full_box[0] : full_box[2]]
        found = hash_region(label, region, full_box, quality_floor, dihedral)
        if found is not None:
            results.append(found)
    deskewed = deskew(work, lambda: working_copy(pixels, DESKEW_SIDE)[0])
    if deskewed is not None:
        upright, bounds = deskewed
        found = hash_region(
            "deskewed", upright, _scaled(bounds, scale, pixels.shape), quality_floor, dihedral
        )
        if found is not None:
            results.append(found)
    # A frame (uniform on two sides or more) is undone by trimming; filling or turning a
    # framed picture would only add hashes of the frame.
    framed = any(_sides_cut(box, width, height) >= 2 for _, box in candidates[:2] if box)
    if occlusion and not framed:
        results += _occlusion_hashes(pixels, medium, work, quality_floor, dihedral)
    if landmarks:
        results += _landmark_hashes(pixels, work, quality_floor, dihedral)
    return tuple(results)


def _landmark_hashes(
    pixels: npt.NDArray[np.uint8],
    work: npt.NDArray[np.uint8],
    quality_floor: int,
    dihedral: bool,
) -> list[RecoveredHash]:
    """Hashes of pairs of windows centred on the picture's landmarks (found after a crop)."""
    found = []
    windows = landmark_windows(pixels, 1.0, QUERY_LANDMARKS, working=work)
    for rank, (box, window) in enumerate(windows):
        whole_pixels = (
            math.floor(box[0]),
            math.floor(box[1]),
            math.ceil(box[2]),
            math.ceil(box[3]),
        )
        hashed = hash_region(f"landmark-{rank}", window, whole_pixels, quality_floor, False)
        if hashed is not None:
            found.append(hashed)
    keep = distinct_windows([hashed.pdq for hashed in found])
    kept = {h.label: h for h, fit in zip(found, keep, strict=True) if fit}
    pairs = paired([(h.label, (h.box[0] + h.box[2]) / 2, h.pdq) for h in kept.values()])
    results = []
    for label, pdq in pairs:
        first, second = (kept[name] for name in label.split("+"))
        box = (
            min(first.box[0], second.box[0]),
            min(first.box[1], second.box[1]),
            max(first.box[2], second.box[2]),
            max(first.box[3], second.box[3]),
        )
        quality = min(first.quality, second.quality)
        ranks = label.replace("landmark-", "").replace("+", "-")
        results.append(RecoveredHash(f"landmarks-{ranks}", pdq, quality, box))
    return results


def _sides_cut(box: Box, width: int, height: int) -> int:
    left, top, right, bottom = box
    return sum((left > 1, top > 1, right < width - 1, bottom < height - 1))


def _occlusion_hashes(
    pixels: npt.NDArray[np.uint8],
    small: npt.NDArray[np.uint8],
    work: npt.NDArray[np.uint8],
    quality_floor: int,
    dihedral: bool,
) -> list[RecoveredHash]:
    """Hashes of the picture with a caption or banner filled in, and turned back a little."""
    whole: Box = (0, 0, pixels.shape[1], pixels.shape[0])
    guesses: list[tuple[str, npt.NDArray[np.uint8], bool]] = []
    captionless = uncaptioned(small)
    if captionless is not None:
        guesses.append(("uncaptioned", captionless, dihedral))
    guesses += [(f"unbannered-{side}", filled, dihedral) for side, filled in unbannered(small)]
    # Turned copies are not mirrored as well: eight more hashes each for a rare combination.
    for degrees in ROTATIONS:
        label = f"unrotated-{abs(degrees):g}-{'ccw' if degrees > 0 else 'cw'}"
        guesses.append((label, unrotated(work, degrees), False))
    found = [
        hash_region(label, guess, whole, quality_floor, mirror) for label, guess, mirror in guesses
    ]
    return [f for f in found if f is not None]


def _scaled(box: Box, scale: float, shape: tuple[int, ...]) -> Box:
    return (
        max(0, math.floor(box[0] * scale)),
        max(0, math.floor(box[1] * scale)),
        min(shape[1], math.ceil(box[2] * scale)),
        min(shape[0], math.ceil(box[3] * scale)),
    )


def _worth_hashing(box: Box, width: int, height: int, kept: list[Box]) -> bool:
    left, top, right, bottom = box
    if min(right - left, bottom - top) < MIN_REGION_SIDE:
        return False
    share = area(box) / (width * height)
    if not MIN_REGION_SHARE <= share <= MAX_REGION_SHARE:
        return False
    if max(right - left, bottom - top) > 5 * min(right - left, bottom - top):
        return False
    # PDQ moves several bits per 1% of crop, so only boxes within a pixel are repeats.
    return all(max(abs(a - b) for a, b in zip(box, other, strict=True)) > 1 for other in kept)


def _dominant_leaves(signed: npt.NDArray[np.int16]) -> list[Box]:
    """The largest photo-like region left after cutting along uniform gaps, as cut and trimmed.

    Two boxes: the leaf as the cuts left it, and the leaf loosely trimmed of what a strict
    cut cannot remove (a chat bubble's margin with a timestamp in it, rounded corners, a
    thin caption strip). The loose one is wrong when the picture itself has a flat margin
    (a fundus photo's black surround), hence both.
    """
    height, width = signed.shape[:2]
    for leaf in layout_leaves(signed):
        if area(leaf) < MIN_REGION_SHARE * width * height:
            break
        region = signed[leaf[1] : leaf[3], leaf[0] : leaf[2]].astype(np.uint8)
        if low_information_reason(region) is None:
            loose = trim(signed, leaf, tolerance=16, share=0.8, own_colour=False, seam=1)
            return [leaf] if loose is None else [leaf, loose]
    return []


def query_hashes(
    rgb: npt.NDArray[np.uint8],
    quality_floor: int = PDQ_MATCH_QUALITY_FLOOR,
    recovery: bool = True,
    occlusion: bool = True,
    landmarks: bool = True,
    already_matched: Callable[[Sequence[tuple[str, str]]], bool] | None = None,
) -> tuple[tuple[str, str], ...]:
    """Every hash to search for one query: (label, pdq), dihedral variants then recovered.

    Recovered regions come with their own dihedral variants (``trimmed+flip_y``). The
    whole-picture hashes (``original`` and the seven dihedral variants, labels from
    `safeguard.hashing.pdq.DIHEDRAL_ORDER`) are left out when the picture is unfit
    (quality below `quality_floor` or `low_information_reason`); each recovered region is
    judged on its own.

    A caller that only needs to know whether a query matches passes its search as
    `already_matched`: it is asked about the whole-picture hashes first, and when it says
    True they are returned alone, without the recovery steps (most of the cost).
    """
    pixels = as_rgb_pixels(rgb)
    found: list[tuple[str, str]] = []
    hashes, quality = pdq_dihedral_of_pixels(pixels)
    # The shrunk copies cost about a third of a hash: made only when recovery runs.
    if quality >= quality_floor and low_information_reason(pixels) is None:
        found += list(zip(DIHEDRAL_ORDER, hashes, strict=True))
        if already_matched is not None and already_matched(found):
            return tuple(found)
    if recovery:
        copies = _shrunk_copies(pixels)
        for region in _recovered(pixels, copies, quality_floor, True, occlusion, landmarks):
            found += region.labelled()
    return tuple(found)
