"""Robust matching for held originals: store augmentation hashes, confirm wide candidates.

When an examiner holds the originals of a graded library, two things raise recall on
cropped and rotated copies without raising false matches:

1. `augment_list_from_originals` stores, for each original, the extra hashes of
   `safeguard.hashing.augmentation` as entries of the same list, with ids
   ``<original id>#<label>`` (`AUGMENTATION_SEPARATOR`) and the original's category and
   provenance, so a match on one of them still names the original
   (`original_entry_id`) and says which crop or rotation was near.
2. `confirm_with_original` is the second stage for candidates beyond the list's PDQ
   threshold but within a wide one: ORB keypoints with a RANSAC fit
   (`safeguard.matching.local_features`) must agree before such a candidate is reported.

The benchmark (``benchmarks/robustness``, results in ``docs/robustness.md``) measures both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry
from safeguard.hashing.augmentation import augmentation_hashes
from safeguard.matching.local_features import LocalFeatureVerdict, confirm, mirror_for_variant
from safeguard.storage.hash_list_store import HashListStore

AUGMENTATION_SEPARATOR = "#"

WIDE_PDQ_THRESHOLD = 96
"""Candidates up to this distance get an ORB check when the original is held.

PDQ moves fast under crops and small rotations: a copy keeping 70-85% of the picture at an
arbitrary offset lands 40-100 bits from the nearest augmentation hash, where unrelated
pictures also begin (about 80 bits in the benchmark). PDQ alone cannot separate them there;
ORB can. An ORB check costs tens of milliseconds, so check only the closest one or two
originals per query (see ``docs/robustness.md``)."""


def original_entry_id(entry_id: str) -> str:
    """The original's id for an augmentation entry id (``orig#crop-90-centre`` -> ``orig``)."""
    return entry_id.split(AUGMENTATION_SEPARATOR, 1)[0]


def augmentation_label(entry_id: str) -> str | None:
    """The augmentation label of an entry id, or None for an original's own entry."""
    parts = entry_id.split(AUGMENTATION_SEPARATOR, 1)
    return parts[1] if len(parts) == 2 else None


def augmentation_entries(original: HashEntry, pixels: npt.NDArray[np.uint8]) -> list[HashEntry]:
    """Entries holding the augmentation hashes of one original, ready to add to its list.

    Each carries only a PDQ digest, the original's category and provenance, and an id
    ``<original id>#<label>``.
    """
    return [
        replace(
            original,
            entry_id=f"{original.entry_id}{AUGMENTATION_SEPARATOR}{extra.label}",
            digests={HashAlgorithm.PDQ: extra.pdq},
            file_name=None,
            size=None,
        )
        for extra in augmentation_hashes(pixels)
    ]


def augment_list_from_originals(
    store: HashListStore,
    list_name: str,
    originals: Iterable[tuple[HashEntry, npt.NDArray[np.uint8]]],
) -> int:
    """Add the augmentation entries of held originals to a stored list.

    Args:
        store: the hash list store.
        list_name: the list that holds (or will hold) the originals' own entries.
        originals: each original's entry and its decoded pixels.

    Returns:
        The number of entries written (existing ids are replaced, so this is repeatable).

    Raises:
        NotFoundError: no list of that name.
    """
    written = 0
    for original, pixels in originals:
        written += store.add_entries(list_name, augmentation_entries(original, pixels))
    return written


def confirm_with_original(
    query_rgb: npt.NDArray[np.uint8], original_rgb: npt.NDArray[np.uint8], variant: str
) -> LocalFeatureVerdict:
    """Second-stage check of a wide PDQ candidate against the held original.

    Args:
        query_rgb: the query's pixels.
        original_rgb: the held original's pixels.
        variant: the query variant that came close (``Match.variant``); a mirror image is
            mirrored back first, since ORB does not see through mirroring.
    """
    return confirm(mirror_for_variant(query_rgb, variant), original_rgb)
