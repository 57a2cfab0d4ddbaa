"""The multi-index hashing tables of a set of PDQ codes, built with the compiled bucket sort.

Layout (`safeguard.matching.mih_layout` says why it is exact): the codes sorted by the value
of chunk 0, so chunk 0 needs no row array; for every chunk its bucket offsets
(``uint32[2**bits + 1]``, the chunks' arrays concatenated); and for chunks 1 to 11 the rows
sorted by that chunk's value (``uint32[11, N]``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from safeguard.matching import pdq_kernels
from safeguard.matching.mih_layout import N_CHUNKS, chunk_positions


class MihTables(NamedTuple):
    """The arrays `PdqIndex` searches its main segment with."""

    codes: NDArray[np.uint8]
    """``uint8[N, 32]``, sorted by the value of chunk 0."""
    ids: NDArray[Any]
    """The codes' ids in the same order: ``uint32`` when they all fit, else ``int64``."""
    positions: NDArray[np.int16]
    """The bit positions of each chunk (`chunk_positions`)."""
    offsets: NDArray[np.uint32]
    """Every chunk's bucket offsets, concatenated."""
    rows: NDArray[np.uint32]
    """``uint32[11, N]``: for chunks 1 to 11, the rows sorted by that chunk's value."""


def _compact_ids(ids: NDArray[np.int64]) -> NDArray[Any]:
    """Store ids as uint32 when they all fit: 40 MB instead of 80 MB at 10 million."""
    if ids.size and int(ids.min()) >= 0 and int(ids.max()) <= np.iinfo(np.uint32).max:
        return ids.astype(np.uint32)
    return ids


def build_tables(
    ids: NDArray[np.int64], codes: NDArray[np.uint8], widths: tuple[int, ...]
) -> MihTables:
    """The tables of `codes` (checked ``uint8[N, 32]``) under `ids` (``int64[N]``) at `widths`.

    `widths` are twelve checked chunk widths (`mih_layout.check_chunk_widths`).
    """
    count = codes.shape[0]
    positions = chunk_positions(widths)
    first_values = pdq_kernels.chunk_values(codes, positions[0], widths[0])
    first_offsets, order = pdq_kernels.bucket_sort(first_values, 1 << widths[0])
    del first_values
    sorted_codes = codes[order]
    sorted_ids = _compact_ids(ids[order])
    del order
    offsets = [first_offsets]
    rows = np.empty((N_CHUNKS - 1, count), dtype=np.uint32)
    for j in range(1, N_CHUNKS):
        values = pdq_kernels.chunk_values(sorted_codes, positions[j], widths[j])
        chunk_offsets, rows[j - 1] = pdq_kernels.bucket_sort(values, 1 << widths[j])
        offsets.append(chunk_offsets)
    return MihTables(sorted_codes, sorted_ids, positions, np.concatenate(offsets), rows)
