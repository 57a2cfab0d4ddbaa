"""Second-stage confirmation of a perceptual candidate by local features (ORB + RANSAC).

PDQ compares whole pictures, so a crop, a small rotation or a large overlay pushes a true
copy past the match threshold while an unrelated picture can, rarely, come close. When the
original picture is held (an examiner's own graded library), a wider PDQ threshold can be
used to gather candidates and each candidate confirmed here: ORB keypoints of the query are
matched to the original's (Hamming distance, Lowe's ratio test), and an affine transform is
fitted with RANSAC. A copy shares many keypoints that agree on one geometric transform;
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

DEFAULT_MIN_INLIER_RATIO = 0.25
"""Share of the ratio-test matches that must be inliers of that transform."""

_MIRRORED_VARIANTS = frozenset({"flip_x", "flip_y", "flip_plus1", "flip_minus1", "mirror"})


@dataclass(frozen=True, slots=True)
class LocalFeatureVerdict:
    """The outcome of comparing a query with one original by local features.

    Attributes:
        inliers: keypoint matches consistent with the fitted transform.
        ratio: inliers as a share of the matches that passed the ratio test (0 when none).
        confirmed: True when both reach their thresholds and the transform is plausible
            (no reflection, scale between 1/8 and 8).
    """

    inliers: int
    ratio: float
    confirmed: bool


@dataclass(frozen=True, slots=True)
class LocalFeatures:
    """ORB keypoints of one picture (coordinates at `FEATURE_SIDE` scale) and descriptors."""

    points: npt.NDArray[np.float32]
    descriptors: npt.NDArray[np.uint8] | None


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
    return LocalFeatures(points, descriptors)


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
    transform, mask = cv2.estimateAffine2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=6.0, maxIters=2000
    )
    if transform is None or mask is None:
        return LocalFeatureVerdict(0, 0.0, False)
    inliers = int(mask.sum())
    ratio = inliers / len(good)
    linear = transform[:, :2]
    determinant = float(np.linalg.det(linear))
    plausible = determinant > 0 and 1 / 64 <= determinant <= 64
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
        min_inliers: keypoint matches consistent with one affine transform needed.
        min_ratio: share of ratio-test matches that must be inliers.

    Returns:
        The verdict with the inlier count and ratio, for the reviewer to see why.
    """
    return confirm_features(
        local_features(query_rgb), local_features(original_rgb), min_inliers, min_ratio
    )
