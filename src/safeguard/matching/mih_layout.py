"""Chunk layout and probe plans of multi-index hashing over 256-bit PDQ codes.

Norouzi, Punjani and Fleet ("Fast exact search in Hamming space with multi-index hashing"):
split the bits into ``m`` disjoint chunks. For a threshold ``r = m * s + a`` (``0 <= a < m``),
a code within ``r`` bits of the query differs in at most ``s`` bits on one of any ``a + 1``
chosen chunks, or in at most ``s - 1`` bits on one of the others; otherwise the distance would
be at least ``(a + 1)(s + 1) + (m - a - 1) s = r + 1``. Probing every bucket within those radii
and verifying each candidate's full distance therefore finds every match. Chunks need not
cover all 256 bits for this to hold. With ``m = 12`` and ``r = 31``: radius 2 on eight chunks,
radius 1 on the other four; the wider chunks get the larger radius.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import PDQ_BITS

N_CHUNKS = 12
WIDE_CHUNKS = 8
MAX_CHUNK_BITS = 22  # offsets of 2**22 + 1 uint32 = 16 MB per chunk
_PERMUTATION_SEED = 0x5AFE_0D0C
# A sequential scan reads a code in ~2 ns; a probe or a candidate check is a cache miss.
SCAN_ADVANTAGE = 16.0


def default_chunk_widths(count: int) -> tuple[int, ...]:
    """Chunk widths for an index of `count` codes: eight wide chunks, then four narrower.

    About a quarter of a code per bucket: a probe reads one pair of bucket bounds, while a
    candidate reads a row number and a code at random addresses, so wider chunks (more,
    mostly empty, buckets) pay off; measured 16 % faster than one code per bucket at 1
    million codes. Widths are capped so the offsets stay at 16 MB per chunk and the twelve
    chunks fit in 256 bits (from 1 million codes: eight of 22 bits, four of 20).
    """
    wide = min(MAX_CHUNK_BITS, max(4, math.ceil(math.log2(max(count, 2))) + 2))
    narrow = min(wide, (PDQ_BITS - WIDE_CHUNKS * wide) // (N_CHUNKS - WIDE_CHUNKS))
    return (wide,) * WIDE_CHUNKS + (narrow,) * (N_CHUNKS - WIDE_CHUNKS)


def check_chunk_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Return `widths` as a tuple if they make a valid layout.

    Raises:
        ValueError: not twelve widths of 1..22 bits fitting in 256 bits.
    """
    layout = tuple(int(w) for w in widths)
    if len(layout) != N_CHUNKS or sum(layout) > PDQ_BITS or min(layout) < 1:
        raise ValueError(f"need {N_CHUNKS} chunk widths >= 1 summing to <= {PDQ_BITS}")
    if max(layout) > MAX_CHUNK_BITS:
        raise ValueError(f"chunk widths are limited to {MAX_CHUNK_BITS} bits")
    return layout


def chunk_positions(widths: Sequence[int]) -> NDArray[np.int16]:
    """Bit positions of each chunk: ``positions[j, t]`` is bit t of chunk j (rows zero-padded).

    The positions are a fixed pseudo-random choice so that correlated neighbouring PDQ bits
    (adjacent DCT coefficients) land in different chunks, which keeps buckets balanced.
    """
    permutation = np.random.default_rng(_PERMUTATION_SEED).permutation(PDQ_BITS)
    positions = np.zeros((len(widths), max(widths)), dtype=np.int16)
    start = 0
    for j, width in enumerate(widths):
        positions[j, :width] = permutation[start : start + width]
        start += width
    return positions


def probe_plan(
    widths: Sequence[int], threshold: int, count: int, allow_scan: bool = True
) -> tuple[NDArray[np.int64], int] | None:
    """Probe radius per chunk for `threshold`, and the most probes any chunk needs.

    Returns None when `allow_scan` and reading all `count` codes is estimated to be cheaper
    than probing (high thresholds, small indexes). A radius of -1 skips its chunk.
    """
    width_array = np.asarray(widths, dtype=np.int64)
    per_chunk, extra = divmod(threshold, len(widths))
    radii = np.full(len(widths), per_chunk - 1, dtype=np.int64)
    radii[np.argsort(-width_array, kind="stable")[: extra + 1]] = per_chunk
    cost = 0.0
    max_probes = 1
    for width, radius in zip(width_array.tolist(), radii.tolist(), strict=True):
        probes = sum(math.comb(width, k) for k in range(min(radius, width) + 1))
        cost += probes * (1.0 + count / 2.0**width)
        max_probes = max(max_probes, probes)
    if allow_scan and cost * SCAN_ADVANTAGE > count:
        return None
    return radii, max_probes
