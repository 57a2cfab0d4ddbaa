"""Raw hits of the PDQ search kernels: gathered over threads, then made into candidates.

The kernels (`safeguard.matching.pdq_kernels`) release the GIL, so one thread pool shared by
every index runs runs of query rows in parallel. A kernel writes into caller-provided output
arrays and returns how many hits it found; `run_kernel` grows the arrays and calls again when
they were too small. The hits come back in query-row order whatever the number of threads.
A row is reported once per chunk that finds it and once per query row (variant) within
reach: `best_candidates` and `best_candidates_per_query` make one `MatchCandidate` of each
entry's best hit (per query).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from safeguard.matching.contract import MatchCandidate

_INITIAL_CAPACITY = 256

MIN_ROWS_PER_THREAD = 64
"""Query rows below which a search stays on the calling thread: a thread hand-off costs
tens of microseconds, about one query row's search at 1 million codes."""

Hits = tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]
"""Raw hits of a search: (rows, distances, query rows), one element per hit."""

IdsOf = Callable[[NDArray[np.int64]], NDArray[np.int64]]
"""Maps rows of an index to the entries' ids."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's threads: it starts a pool of its own."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _search_pool() -> ThreadPoolExecutor:
    """One pool for every index: the kernels release the GIL, so threads run them in parallel."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(usable_cpus(), thread_name_prefix="pdq-search")
        return _pool


def run_kernel(
    kernel: Callable[..., int], queries: NDArray[np.uint8], threads: int, *args: Any
) -> Hits:
    """Run `kernel` over runs of query rows on up to `threads` threads; hits in row order.

    Each thread takes a run of at least `MIN_ROWS_PER_THREAD` rows; `args` follow the
    queries in the kernel call, and the query rows of the hits count from the first row of
    `queries`.
    """
    rows = queries.shape[0]
    parts = min(threads, rows // MIN_ROWS_PER_THREAD)
    if parts <= 1:
        return _collect(kernel, queries, *args)
    bounds = np.linspace(0, rows, parts + 1).astype(np.int64).tolist()
    pool = _search_pool()
    futures = [
        pool.submit(_collect, kernel, queries[start:end], *args)
        for start, end in itertools.pairwise(bounds)
    ]
    found = [future.result() for future in futures]
    return (
        np.concatenate([hits[0] for hits in found]),
        np.concatenate([hits[1] for hits in found]),
        np.concatenate([hits[2] + start for hits, start in zip(found, bounds[:-1], strict=True)]),
    )


def _collect(kernel: Callable[..., int], *args: Any) -> Hits:
    """Call a search kernel with output arrays, growing them until every hit fits."""
    # A code within the threshold of a query is reported once per chunk that finds it (up to
    # twelve): room for that per query row, so that a batch rarely has to run twice.
    capacity = max(_INITIAL_CAPACITY, 16 * int(args[0].shape[0]))
    while True:
        rows = np.empty(capacity, np.int64)
        distances = np.empty(capacity, np.int32)
        variants = np.empty(capacity, np.int32)
        found = kernel(*args, rows, distances, variants)
        if found <= capacity:
            return rows[:found], distances[:found], variants[:found]
        capacity = found


def joined(parts: Sequence[Hits]) -> Hits:
    """The hits of `parts` one after another (no parts: no hits)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def best_candidates(hits: Hits, ids_of: IdsOf) -> list[MatchCandidate]:
    """One candidate per row hit, sorted by distance then id.

    Each row's candidate has its least distance and the lowest query row (variant)
    reaching it; `ids_of` gives the rows' ids.
    """
    rows, distances, variants = hits
    if rows.shape[0] > 1:
        order = np.lexsort((variants, distances, rows))
        rows, distances, variants = rows[order], distances[order], variants[order]
        first = np.ones(rows.shape[0], dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        rows, distances, variants = rows[first], distances[first], variants[first]
    ids = ids_of(rows)
    found = [
        MatchCandidate(int(d), int(i), int(v))
        for d, i, v in zip(distances.tolist(), ids.tolist(), variants.tolist(), strict=True)
    ]
    found.sort()
    return found


def best_candidates_per_query(
    hits: Hits, bounds: NDArray[np.int64], ids_of: IdsOf
) -> dict[int, list[MatchCandidate]]:
    """Candidates by query, where query ``q`` is query rows ``bounds[q]:bounds[q + 1]``.

    One candidate per (query, row) hit, with its least distance and the lowest variant
    (query row counted from the query's first) reaching it; each query's list sorted by
    distance then id, queries without hits left out. `ids_of` gives the rows' ids.
    """
    rows, distances, query_rows = hits
    groups = np.searchsorted(bounds, query_rows, side="right") - 1
    order = np.lexsort((query_rows, distances, rows, groups))
    rows, distances, query_rows, groups = (
        rows[order],
        distances[order],
        query_rows[order],
        groups[order],
    )
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (groups[1:] != groups[:-1])
    rows, distances, query_rows, groups = (
        rows[first],
        distances[first],
        query_rows[first],
        groups[first],
    )
    variants = query_rows - bounds[groups]
    found: dict[int, list[MatchCandidate]] = {}
    for g, d, i, v in zip(
        groups.tolist(),
        distances.tolist(),
        ids_of(rows).tolist(),
        variants.tolist(),
        strict=True,
    ):
        found.setdefault(g, []).append(MatchCandidate(d, i, v))
    for candidates in found.values():
        candidates.sort()
    return found
