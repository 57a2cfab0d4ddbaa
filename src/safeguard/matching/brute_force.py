"""The plain-numpy brute-force oracle: every code compared with every query, no cleverness.

Tests and the benchmark compare `PdqIndex` with this; it is too slow for service use
(about 3 queries per second at 10 million codes).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_BLOCK_ROWS = 1 << 20  # bounds the xor temporary to 32 MB


def hamming_distances(codes: NDArray[np.uint8], query: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Hamming distance from `query` (``uint8[32]``) to every row of `codes` (``uint8[N, 32]``)."""
    table = np.asarray(codes, dtype=np.uint8)
    probe = np.asarray(query, dtype=np.uint8).reshape(1, -1)
    out = np.empty(table.shape[0], dtype=np.int64)
    for start in range(0, table.shape[0], _BLOCK_ROWS):
        block = table[start : start + _BLOCK_ROWS]
        out[start : start + block.shape[0]] = np.bitwise_count(block ^ probe).sum(
            axis=1, dtype=np.int64
        )
    return out


def brute_force_search(
    codes: NDArray[np.uint8], query: NDArray[np.uint8], threshold: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows of `codes` within `threshold` bits of `query`, ascending, and their distances."""
    distances = hamming_distances(codes, query)
    rows = np.flatnonzero(distances <= threshold)
    return rows.astype(np.int64), distances[rows]


def brute_force_matches(
    ids: NDArray[np.int64], codes: NDArray[np.uint8], queries: NDArray[np.uint8], threshold: int
) -> dict[int, tuple[int, int]]:
    """Best match per id over several query variants: ``{id: (distance, variant)}``.

    Ties between variants go to the lowest variant row, like `PdqIndex.search_variants`.
    """
    best: dict[int, tuple[int, int]] = {}
    id_array = np.asarray(ids, dtype=np.int64)
    for variant, query in enumerate(
        np.asarray(queries, dtype=np.uint8).reshape(-1, codes.shape[1])
    ):
        rows, distances = brute_force_search(codes, query, threshold)
        for entry_id, distance in zip(id_array[rows].tolist(), distances.tolist(), strict=True):
            if entry_id not in best or distance < best[entry_id][0]:
                best[entry_id] = (distance, variant)
    return best
