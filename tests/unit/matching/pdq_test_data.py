"""Synthetic 256-bit codes for index tests: random, planted near neighbours, and skewed sets.

These are random bit patterns, not hashes of any image.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def random_codes(rng: np.random.Generator, count: int) -> NDArray[np.uint8]:
    return rng.integers(0, 256, size=(count, 32), dtype=np.uint8)


def flip_bits(
    rng: np.random.Generator, code: NDArray[np.uint8], distance: int
) -> NDArray[np.uint8]:
    """A copy of `code` with exactly `distance` distinct bits flipped."""
    bits = np.unpackbits(code)
    bits[rng.choice(256, size=distance, replace=False)] ^= 1
    return np.packbits(bits)


def planted_queries(
    rng: np.random.Generator, codes: NDArray[np.uint8], distances: list[int]
) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    """One query per distance, each that far from a randomly chosen indexed code."""
    rows = rng.integers(0, codes.shape[0], size=len(distances))
    queries = np.stack(
        [flip_bits(rng, codes[row], d) for row, d in zip(rows, distances, strict=True)]
    )
    return rows.astype(np.int64), queries


def skewed_codes(rng: np.random.Generator, count: int) -> NDArray[np.uint8]:
    """Codes shaped like real PDQ sets rather than uniform noise.

    Biased bits (each bit set with its own probability in 0.1..0.9), clusters of near
    duplicates (re-encodes of one picture), and a pathological block of identical codes
    (flat images hash alike), which piles many codes into the same bucket of every chunk.
    """
    probabilities = rng.uniform(0.1, 0.9, size=256)
    base = count // 2
    biased = np.packbits(rng.random((base, 256)) < probabilities, axis=1)
    centres = biased[rng.integers(0, base, size=max(1, count // 40))]
    cluster_count = count - base - count // 10
    members = np.stack(
        [
            flip_bits(rng, centres[i % centres.shape[0]], int(rng.integers(0, 12)))
            for i in range(cluster_count)
        ]
    )
    flat = np.zeros((count - base - cluster_count, 32), dtype=np.uint8)
    flat[:, :2] = 0xFF
    codes = np.concatenate([biased, members, flat])
    return codes[rng.permutation(count)]
