"""Compiled (numba) loops behind `PdqIndex`: chunk extraction, bucket sort, probing, scanning.

Codes are 256-bit PDQ hashes held twice over the same memory: as ``uint8[N, 32]`` (the bytes
of the hex string, big-endian bit order) for chunk extraction, and as a ``uint64[N, 4]`` view
for distances. Hamming distance does not depend on how the bytes are grouped into words, so
the native-endian view is safe as long as queries are viewed the same way.

Every search kernel writes at most ``capacity`` hits into caller-provided arrays and returns
the total number of hits found; when that total exceeds the capacity the caller grows the
arrays and calls again. This keeps allocation out of the hot loops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic
from numpy.typing import NDArray

_F = TypeVar("_F", bound=Callable[..., Any])

logger = logging.getLogger(__name__)


def _compiled(func: _F) -> _F:
    """Compile `func` with numba in nopython mode, cached on disk, releasing the GIL.

    The machine code is cached next to this module (``__pycache__``) or, where that is not
    writable (a read-only install), in numba's per-user cache folder (``NUMBA_CACHE_DIR``
    overrides it). Where neither can be written numba refuses to cache: the kernels are
    then compiled in memory on first use in each process (a few seconds), not refused.
    """
    try:
        return cast(_F, numba.njit(cache=True, nogil=True)(func))
    except RuntimeError as exc:  # "cannot cache function ...: no locator available"
        logger.warning("PDQ kernels not cached on disk (%s); compiling in memory", exc)
        return cast(_F, numba.njit(nogil=True)(func))


def _popcount64_typer(typingctx: Any, value: Any) -> Any:
    """Emit LLVM's ``ctpop`` so the CPU's POPCNT (or VPOPCNTQ) instruction is used."""
    if value != types.uint64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


# The SWAR popcount also compiles to POPCNT here, but only if LLVM recognises the idiom; the
# intrinsic does not depend on that.
_popcount64 = cast(Callable[[Any], Any], intrinsic(_popcount64_typer))


@_compiled
def hamming4(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> int:
    """Hamming distance between two codes given as ``uint64[4]`` views."""
    return int(
        _popcount64(a[0] ^ b[0])
        + _popcount64(a[1] ^ b[1])
        + _popcount64(a[2] ^ b[2])
        + _popcount64(a[3] ^ b[3])
    )


@_compiled
def chunk_values(
    codes: NDArray[np.uint8], positions: NDArray[np.int16], width: int
) -> NDArray[np.uint32]:
    """Value of one chunk for every code: bit t of the value is code bit ``positions[t]``.

    Bit p of a code is bit ``7 - p % 8`` of byte ``p // 8`` (the hex string read left to right).
    """
    n = codes.shape[0]
    out = np.empty(n, np.uint32)
    for i in range(n):
        value = 0
        for t in range(width):
            p = positions[t]
            value |= ((codes[i, p >> 3] >> (7 - (p & 7))) & 1) << t
        out[i] = value
    return out


@_compiled
def bucket_sort(
    values: NDArray[np.uint32], n_buckets: int
) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """Counting sort of row numbers by chunk value.

    Returns:
        ``(offsets, order)``: rows with value v are ``order[offsets[v]:offsets[v + 1]]``,
        in ascending row order.
    """
    n = values.shape[0]
    offsets = np.zeros(n_buckets + 1, np.uint32)
    for i in range(n):
        offsets[values[i] + 1] += 1
    for v in range(n_buckets):
        offsets[v + 1] += offsets[v]
    cursor = offsets[:-1].copy()
    order = np.empty(n, np.uint32)
    for i in range(n):
        v = values[i]
        order[cursor[v]] = i
        cursor[v] += 1
    return offsets, order


@_compiled
def _query_chunk(query: NDArray[np.uint8], positions: NDArray[np.int16], width: int) -> int:
    value = 0
    for t in range(width):
        p = positions[t]
        value |= ((query[p >> 3] >> (7 - (p & 7))) & 1) << t
    return value


# Bucket entries copied per probe without a branch; larger buckets take a loop. Buckets hold
# one to a few codes at the default widths (about one at 1 million, 2.4 and 9.5 at 10 million):
# 4 measured 10-15 % faster than 8 at 1 million (fewer wasted loads and stores per probe).
_GATHER = 4


@_compiled
def _probe_values(centre: int, width: int, radius: int, out: NDArray[np.int64]) -> int:
    """Write every value within Hamming `radius` of `centre` (a `width`-bit number) to `out`."""
    count = 0
    limit = np.int64(1) << width
    for k in range(min(radius, width) + 1):
        mask = (np.int64(1) << k) - 1
        while mask < limit:
            out[count] = centre ^ mask
            count += 1
            if mask == 0:
                break
            # Gosper's hack: the next larger integer with the same number of set bits.
            lowest = mask & -mask
            ripple = mask + lowest
            mask = (((ripple ^ mask) >> 2) // lowest) | ripple
    return count


@_compiled
def mih_search(
    queries: NDArray[np.uint8],
    threshold: int,
    radii: NDArray[np.int64],
    max_probes: int,
    codes: NDArray[np.uint64],
    positions: NDArray[np.int16],
    widths: NDArray[np.int64],
    offsets: NDArray[np.uint32],
    offset_base: NDArray[np.int64],
    rows: NDArray[np.uint32],
    dead: NDArray[np.uint8],
    out_rows: NDArray[np.int64],
    out_distances: NDArray[np.int32],
    out_variants: NDArray[np.int32],
) -> int:
    """Multi-index hashing search of each query row against the main segment.

    Chunk j is probed at every value within Hamming radius ``radii[j]`` of the query's chunk
    value (a negative radius skips the chunk); `max_probes` bounds the probes of any chunk.
    The caller picks radii so that every code within `threshold` of a query falls in at
    least one probed bucket, which makes the search exact. Chunk 0 is the order of `codes`
    itself, so its bucket positions are row numbers; chunk j > 0 maps positions to rows
    through ``rows[j - 1]``. A row may be reported more than once (once per chunk that finds
    it); the caller removes duplicates.

    The work runs in three passes per query because probing bucket by bucket mispredicts a
    branch at nearly every bucket (bucket sizes are random), which serialises the cache
    misses: (1) all bucket bounds of a chunk are loaded in a loop without data-dependent
    branches, (2) up to `_GATHER` row numbers per bucket are copied unconditionally, and
    (3) the candidates are verified in one flat loop. Measured 22 % faster at 10 million.

    Returns:
        The number of hits; only the first ``len(out_rows)`` are written.
    """
    capacity = out_rows.shape[0]
    has_dead = dead.shape[0] > 0
    n = codes.shape[0]
    found = 0
    q64 = queries.view(np.uint64)
    # The values to probe are the query's chunk value XOR every mask of at most radii[j]
    # bits: the masks are the same for every query, so they are listed once per call
    # (Gosper's hack divides, which costs more than the probe's own load).
    n_chunks = widths.shape[0]
    masks = np.empty((n_chunks, max_probes), np.int64)
    mask_counts = np.zeros(n_chunks, np.int64)
    for j in range(n_chunks):
        if radii[j] >= 0:
            mask_counts[j] = _probe_values(0, widths[j], radii[j], masks[j])
    starts = np.empty(max_probes, np.int64)
    ends = np.empty(max_probes, np.int64)
    candidates = np.empty(4096, np.int64)
    for variant in range(queries.shape[0]):
        query = queries[variant]
        qv = q64[variant]
        count = 0
        for j in range(n_chunks):
            if radii[j] < 0:
                continue
            centre = _query_chunk(query, positions[j], widths[j])
            probes = mask_counts[j]
            chunk_masks = masks[j]
            base = offset_base[j]
            for p in range(probes):
                bucket = base + (centre ^ chunk_masks[p])
                starts[p] = offsets[bucket]
                ends[p] = offsets[bucket + 1]
            for p in range(probes):
                start = starts[p]
                size = ends[p] - start
                if count + max(size, _GATHER) > candidates.shape[0]:
                    grown = np.empty(2 * (count + max(size, _GATHER)), np.int64)
                    grown[:count] = candidates[:count]
                    candidates = grown
                for k in range(_GATHER):
                    position = min(start + k, n - 1)
                    candidates[count + k] = position if j == 0 else rows[j - 1, position]
                if size > _GATHER:
                    for k in range(_GATHER, size):
                        position = start + k
                        candidates[count + k] = position if j == 0 else rows[j - 1, position]
                count += size
        for c in range(count):
            row = candidates[c]
            distance = hamming4(codes[row], qv)
            if distance <= threshold and not (has_dead and dead[row]):
                if found < capacity:
                    out_rows[found] = row
                    out_distances[found] = distance
                    out_variants[found] = variant
                found += 1
    return found


@_compiled
def scan_search(
    queries: NDArray[np.uint8],
    threshold: int,
    codes: NDArray[np.uint64],
    dead: NDArray[np.uint8],
    out_rows: NDArray[np.int64],
    out_distances: NDArray[np.int32],
    out_variants: NDArray[np.int32],
) -> int:
    """Exhaustive search of each query row against every code; same output contract as `mih_search`."""
    capacity = out_rows.shape[0]
    has_dead = dead.shape[0] > 0
    found = 0
    q64 = queries.view(np.uint64)
    for row in range(codes.shape[0]):
        code = codes[row]
        for variant in range(queries.shape[0]):
            distance = hamming4(code, q64[variant])
            if distance <= threshold and not (has_dead and dead[row]):
                if found < capacity:
                    out_rows[found] = row
                    out_distances[found] = distance
                    out_variants[found] = variant
                found += 1
    return found
