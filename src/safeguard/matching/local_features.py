"""Second-stage confirmation of a perceptual candidate by local features (ORB + RANSAC).

PDQ compares whole pictures, so a crop, a small rotation or a large overlay pushes a true
copy past the match threshold while an unrelated picture can, rarely, come close. When the
original picture is held (an examiner's own graded library), a wider PDQ threshold can be
used to gather candidates and each candidate confirmed here: ORB keypoints of the query are
matched to the original's (Hamming distance, Lowe's ratio test), and a similarity transform
(rotation, uniform scale, shift: what crops, resizes and rotations produce) is fitted with
RANSAC; its four degrees of freedom leave chance matches little room to agree. A copy shares many keypoints that agree on one geometric transform;
an unrelated picture yields a handful of chance matches that agree on none.

Needs OpenCV (``opencv-contrib-python-headless``, the ``robust`` extra), imported on first
use. ORB is not mirror invariant: a caller that knows the query matched as a mirror image
mirrors it first (`mirror_for_variant`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FEATURE_SIDE = 512
"""Pictures are shrunk to at most this many pixels on a side before keypoints are found."""

DEFAULT_MIN_INLIERS = 20
"""Keypoint matches consistent with one transform needed to confirm (chance gives < 10)."""

DEFAULT_MIN_INLIER_RATIO = 0.5
"""Share of the ratio-test matches that must be inliers of that transform.

True copies in the benchmark put a median of 97% of their matches on the transform (5th
percentile 68%); chance matches between unrelated pictures rarely pass half."""

MIN_INLIER_SPREAD = 0.05
"""Inliers must span at least this share of each picture (bounding box over area).

RANSAC can "explain" many chance matches with a degenerate transform that maps them all
to one small spot (repetitive patterns such as a chessboard do this); a real copy's
inliers spread over the shared picture."""

_MIRRORED_VARIANTS = frozenset({"flip_x", "flip_y", "flip_plus1", "flip_minus1", "mirror"})


@dataclass(frozen=True, slots=True)
class LocalFeatureVerdict:
    """The outcome of comparing a query with one original by local features.

    Attributes:
        inliers: keypoint matches consistent with the fitted transform.
        ratio: inliers as a share of the matches that passed the ratio test (0 when none).
        confirmed: True when both reach their thresholds and the transform is plausible
            (scale between 1/8 and 8, inliers spread over both pictures).
    """

    inliers: int
    ratio: float
    confirmed: bool


@dataclass(frozen=True, slots=True)
class LocalFeatures:
    """ORB keypoints of one picture (coordinates at `FEATURE_SIDE` scale) and descriptors.

    Attributes:
        points: keypoint coordinates (x, y), one row per keypoint.
        descriptors: ORB descriptors, one row per keypoint; None when there are none.
        size: (width, height) of the picture the keypoints were found in.
    """

    points: npt.NDArray[np.float32]
    descriptors: npt.NDArray[np.uint8] | None
    size: tuple[int, int] = (1, 1)


def _cv2() -> Any:
    import cv2  # Optional dependency: only this second stage needs it.

    return cv2


def mirror_for_variant(rgb: npt.NDArray[np.uint8], variant: str) -> npt.NDArray[np.uint8]:
    """The query as ORB should see it: mirrored back when it matched as a mirror image."""
    if variant in _MIRRORED_VARIANTS:
        return np.ascontiguousarray(rgb[:, ::-1])
    return rgb


def local_features(rgb: npt.NDArray[np.uint8], max_features: int = 1500) -> LocalFeatures:
    """ORB keypoints and descriptors of RGB or grey pixels (compute once per original)."""
    cv2 = _cv2()
    grey = (
        rgb
        if rgb.ndim == 2
        else cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    )
    scale = FEATURE_SIDE / max(grey.shape[:2])
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    orb = cv2.ORB_create(nfeatures=max_features, fastThreshold=10)
    keypoints, descriptors = orb.detectAndCompute(grey, None)
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32).reshape(-1, 2)
    return LocalFeatures(points, descriptors, (int(grey.shape[1]), int(grey.shape[0])))


def _spread(points: npt.NDArray[np.float32], size: tuple[int, int]) -> float:
    """Bounding-box area of `points` as a share of the picture's area."""
    if len(points) == 0:
        return 0.0
    extent = points.max(axis=0) - points.min(axis=0)
    return float(extent[0] * extent[1]) / max(1, size[0] * size[1])


def confirm_features(
    query: LocalFeatures,
    original: LocalFeatures,
    min_inliers: int = DEFAULT_MIN_INLIERS,
    min_ratio: float = DEFAULT_MIN_INLIER_RATIO,
) -> LocalFeatureVerdict:
    """Compare precomputed features; see `confirm`."""
    if query.descriptors is None or original.descriptors is None:
        return LocalFeatureVerdict(0, 0.0, False)
    if len(query.descriptors) < 2 or len(original.descriptors) < 2:
        return LocalFeatureVerdict(0, 0.0, False)
    cv2 = _cv2()
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(query.descriptors, original.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < max(3, min_inliers // 2):
        return LocalFeatureVerdict(0, 0.0, False)
    source = query.points[[m.queryIdx for m in good]]
    target = original.points[[m.trainIdx for m in good]]
    transform, mask = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=6.0, maxIters=2000
    )
    if transform is None or mask is None:
        return LocalFeatureVerdict(0, 0.0, False)
    inliers = int(mask.sum())
    ratio = inliers / len(good)
    determinant = float(np.linalg.det(transform[:, :2]))
    kept = mask.ravel().astype(bool)
    spread = min(_spread(source[kept], query.size), _spread(target[kept], original.size))
    plausible = 1 / 64 <= determinant <= 64 and spread >= MIN_INLIER_SPREAD
    confirmed = plausible and inliers >= min_inliers and ratio >= min_ratio
    return LocalFeatureVerdict(inliers, round(ratio, 3), confirmed)


def confirm(
    query_rgb: npt.NDArray[np.uint8],
    original_rgb: npt.NDArray[np.uint8],
    min_inliers: int = DEFAULT_MIN_INLIERS,
    min_ratio: float = DEFAULT_MIN_INLIER_RATIO,
) -> LocalFeatureVerdict:
    """Does the query show (a crop, rotation or scaling of) the original?

    Args:
        query_rgb: the query's pixels, already mirrored back if it matched as a mirror
            image (`mirror_for_variant`).
        original_rgb: the held original's pixels.
        min_inliers: keypoint matches consistent with one similarity transform needed.
        min_ratio: share of ratio-test matches that must be inliers.

    Returns:
        The verdict with the inlier count and ratio, for the reviewer to see why.
    """
    return confirm_features(
        local_features(query_rgb), local_features(original_rgb), min_inliers, min_ratio
    )
