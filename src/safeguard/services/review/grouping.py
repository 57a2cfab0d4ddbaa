"""Near-duplicate groups: items within a PDQ threshold of each other after rotations/flips."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from safeguard.domain.errors import InputError
from safeguard.hashing.pdq import pdq_dihedral_of_pixels, pixels_for_pdq
from safeguard.matching.pdq_codes import codes_from_hex
from safeguard.matching.pdq_index import PdqIndex

DEFAULT_GROUP_THRESHOLD = 31
"""PDQ bits within which two items are near-duplicates (the lists' default threshold)."""


def dihedral_pdq(data: bytes) -> list[str] | None:
    """The eight rotation/flip PDQ hashes of a picture (original first); None if undecodable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                hashes, _quality = pdq_dihedral_of_pixels(pixels_for_pdq(image))
    except (OSError, ValueError, SyntaxError, InputError, Image.DecompressionBombWarning):
        return None
    return hashes


def near_duplicate_groups(
    originals: Mapping[int, str],
    variants: Mapping[int, Sequence[str]],
    threshold: int = DEFAULT_GROUP_THRESHOLD,
) -> dict[int, tuple[int, int]]:
    """Group items whose PDQ hashes are within `threshold` under some rotation or flip.

    Args:
        originals: item number -> its PDQ hash as found (hex).
        variants: item number -> its eight dihedral hashes, where they could be computed;
            an item without them is compared as it is.
        threshold: the largest Hamming distance that joins two items.

    Returns:
        item number -> (group number, distance to the group's first member) for every item
        in a group of two or more; items on their own are absent. Group numbers are the
        smallest item number in the group, so they are stable across runs.
    """
    numbers = sorted(originals)
    if len(numbers) < 2:
        return {}
    ids = np.asarray(numbers, dtype=np.int64)
    index = PdqIndex.build(ids, codes_from_hex([originals[n] for n in numbers]))
    parent = {n: n for n in numbers}

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    near: dict[tuple[int, int], int] = {}
    for number in numbers:
        queries = list(variants.get(number) or [originals[number]])
        for hit in index.search_variants(codes_from_hex(queries), threshold):
            other = int(hit.row_id)
            if other == number:
                continue
            pair = (min(number, other), max(number, other))
            near[pair] = min(near.get(pair, hit.distance), hit.distance)
            a, b = root(number), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for number in numbers:
        members.setdefault(root(number), []).append(number)
    groups: dict[int, tuple[int, int]] = {}
    for first, group in members.items():
        if len(group) < 2:
            continue
        for number in group:
            distance = 0 if number == first else near.get((first, number))
            if distance is None:
                # Joined through another member: measure against the first directly.
                distance = _distance(originals[first], variants.get(number) or [originals[number]])
            groups[number] = (first, distance)
    return groups


def _distance(target: str, queries: Sequence[str]) -> int:
    goal = int(target, 16)
    return min(bin(goal ^ int(q, 16)).count("1") for q in queries)
