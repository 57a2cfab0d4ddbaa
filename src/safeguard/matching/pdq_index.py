"""Exact PDQ radius search at national-list scale: multi-index hashing over compact arrays.

Design: multi-index hashing (see `safeguard.matching.mih_layout` for the layout and why it
is exact) with twelve chunks of a fixed pseudo-random choice of bit positions.

Each chunk is a bucket-offsets array (``uint32[2**bits + 1]``) and a row array sorted by chunk
value (``uint32[N]``); the codes themselves are stored sorted by chunk 0, so chunk 0 needs no row
array. At 10 million codes with 22-bit chunks that is 320 MB of codes, 440 MB of rows, 151 MB
of offsets and 40-80 MB of ids. When probing would cost more than reading every code (very
high thresholds, tiny indexes) the search scans instead; both paths are exact.

Changes go to a small delta segment searched by brute force, and removals to a tombstone mask;
`PdqIndex.compact` folds them into a rebuilt main segment once they pass a fraction of it.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import PDQ_BITS
from safeguard.domain.errors import StorageError
from safeguard.matching import pdq_kernels
from safeguard.matching.contract import MatchCandidate
from safeguard.matching.hex_arrays import bytes_from_hex, hex_from_bytes
from safeguard.matching.index_files import read_manifest, staging_folder, swap_in, write_manifest
from safeguard.matching.mih_layout import (
    N_CHUNKS,
    check_chunk_widths,
    chunk_positions,
    default_chunk_widths,
    probe_plan,
)

__all__ = ["PdqIndex", "codes_from_hex", "hex_from_code"]

CODE_BYTES = PDQ_BITS // 8
FORMAT_NAME = "safeguard.pdq-index"
FORMAT_VERSION = 1
_INITIAL_CAPACITY = 256
DEFAULT_COMPACT_FRACTION = 0.005
MIN_DELTA_BEFORE_COMPACT = 20_000

MIN_ROWS_PER_THREAD = 64
"""Query rows below which a search stays on the calling thread: a thread hand-off costs
tens of microseconds, about one query row's search at 1 million codes."""

_Hits = tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]


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


def codes_from_hex(hexes: Sequence[str]) -> NDArray[np.uint8]:
    """PDQ hex strings (64 digits, either case) to ``uint8[N, 32]`` (``bytes.fromhex`` order).

    Raises:
        InvalidDigestError: a value is not 64 hex digits.
    """
    return bytes_from_hex(hexes, CODE_BYTES)


def hex_from_code(code: NDArray[np.uint8]) -> str:
    """The 64-digit lower-case hex text of one ``uint8[32]`` code."""
    return hex_from_bytes(np.asarray(code, dtype=np.uint8).reshape(1, CODE_BYTES))[0]


def _as_codes(codes: NDArray[np.uint8], what: str = "codes") -> NDArray[np.uint8]:
    array = np.ascontiguousarray(codes, dtype=np.uint8)
    if array.ndim == 1 and array.shape[0] == CODE_BYTES:
        array = array.reshape(1, CODE_BYTES)
    if array.ndim != 2 or array.shape[1] != CODE_BYTES:
        raise ValueError(f"{what} must have shape (N, {CODE_BYTES}), got {array.shape}")
    return array


def _as_ids(ids: NDArray[np.int64], count: int) -> NDArray[np.int64]:
    array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
    if array.shape[0] != count:
        raise ValueError(f"got {array.shape[0]} ids for {count} codes")
    return array


def _compact_ids(ids: NDArray[np.int64]) -> NDArray[Any]:
    """Store ids as uint32 when they all fit: 40 MB instead of 80 MB at 10 million."""
    if ids.size and int(ids.min()) >= 0 and int(ids.max()) <= np.iinfo(np.uint32).max:
        return ids.astype(np.uint32)
    return ids


def _check_threshold(threshold: int) -> int:
    value = int(threshold)
    if not 0 <= value <= PDQ_BITS:
        raise ValueError(f"threshold must be between 0 and {PDQ_BITS}, got {threshold}")
    return value


class PdqIndex:
    """Exact Hamming-radius search over PDQ codes with ids; see the module docstring.

    Build with `PdqIndex.build` or `PdqIndex.load`. Searches are safe from several threads at
    once (the kernels release the GIL); `add`, `remove` and `compact` are not, so callers
    serialise writes or swap in a new index.
    """

    def __init__(
        self,
        *,
        codes: NDArray[np.uint8],
        ids: NDArray[Any],
        widths: Sequence[int],
        positions: NDArray[np.int16],
        offsets: NDArray[np.uint32],
        rows: NDArray[np.uint32],
        dead: NDArray[np.uint8] | None = None,
        delta_codes: NDArray[np.uint8] | None = None,
        delta_ids: NDArray[np.int64] | None = None,
        compact_fraction: float = DEFAULT_COMPACT_FRACTION,
    ) -> None:
        """Assemble an index from arrays made by `build` or read by `load`; not for callers."""
        self._codes = codes
        self._codes64: NDArray[np.uint64] = codes.view(np.uint64)
        self._ids = ids
        self._widths = np.asarray(widths, dtype=np.int64)
        self._positions = positions
        self._offsets = offsets
        self._rows = rows
        sizes = (np.int64(1) << self._widths) + 1
        self._offset_base = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self._dead = np.zeros(0, np.uint8) if dead is None else np.array(dead, dtype=np.uint8)
        self._dead_count = int(self._dead.sum())
        self._delta_codes = (
            np.zeros((0, CODE_BYTES), np.uint8) if delta_codes is None else _as_codes(delta_codes)
        )
        self._delta_ids = (
            np.zeros(0, np.int64)
            if delta_ids is None
            else _as_ids(delta_ids, len(self._delta_codes))
        )
        self.compact_fraction = compact_fraction
        self.strategy: Literal["auto", "probe", "scan"] = "auto"
        """How the main segment is searched: ``auto`` picks the cheaper of probing and scanning
        per threshold; ``probe`` and ``scan`` force one (tests and benchmarks). All are exact."""
        self._plans: dict[tuple[int, str], tuple[NDArray[np.int64], int] | None] = {}
        self.search_threads = usable_cpus()
        """Threads a search of many query rows is split over (each takes a run of rows, at
        least `MIN_ROWS_PER_THREAD`); 1 searches on the calling thread only. The results do
        not depend on it."""

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        ids: NDArray[np.int64],
        codes: NDArray[np.uint8],
        *,
        chunk_widths: Sequence[int] | None = None,
        compact_fraction: float = DEFAULT_COMPACT_FRACTION,
    ) -> PdqIndex:
        """Index `codes` (``uint8[N, 32]``, ``bytes.fromhex`` order) under `ids` (unique int64).

        Args:
            ids: one id per code; returned in `MatchCandidate.row_id`.
            codes: the PDQ codes.
            chunk_widths: override the twelve chunk widths (benchmarks and tests only).
            compact_fraction: fold changes into the main segment once they exceed this
                fraction of it (or `MIN_DELTA_BEFORE_COMPACT` entries, whichever is larger).
        """
        code_array = _as_codes(codes)
        id_array = _as_ids(ids, code_array.shape[0])
        count = code_array.shape[0]
        widths = check_chunk_widths(
            chunk_widths if chunk_widths is not None else default_chunk_widths(count)
        )
        positions = chunk_positions(widths)
        first_values = pdq_kernels.chunk_values(code_array, positions[0], widths[0])
        first_offsets, order = pdq_kernels.bucket_sort(first_values, 1 << widths[0])
        del first_values
        sorted_codes = code_array[order]
        sorted_ids = _compact_ids(id_array[order])
        del order
        offsets = [first_offsets]
        rows = np.empty((N_CHUNKS - 1, count), dtype=np.uint32)
        for j in range(1, N_CHUNKS):
            values = pdq_kernels.chunk_values(sorted_codes, positions[j], widths[j])
            chunk_offsets, rows[j - 1] = pdq_kernels.bucket_sort(values, 1 << widths[j])
            offsets.append(chunk_offsets)
        return cls(
            codes=sorted_codes,
            ids=sorted_ids,
            widths=widths,
            positions=positions,
            offsets=np.concatenate(offsets),
            rows=rows,
            compact_fraction=compact_fraction,
        )

    # -- queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live entries (main minus removed, plus delta)."""
        return int(self._codes.shape[0] - self._dead_count + self._delta_codes.shape[0])

    @property
    def chunk_widths(self) -> tuple[int, ...]:
        """Bits in each of the twelve chunks of the main segment."""
        return tuple(int(w) for w in self._widths)

    @property
    def pending_changes(self) -> int:
        """Entries in the delta segment plus tombstones, i.e. work for the next `compact`."""
        return int(self._delta_codes.shape[0] + self._dead_count)

    def search(self, code: NDArray[np.uint8], threshold: int) -> list[MatchCandidate]:
        """Every entry within `threshold` bits of `code` (``uint8[32]``), closest first."""
        query = _as_codes(code, "code")
        if query.shape[0] != 1:
            raise ValueError("search takes one code; use search_variants for several")
        return self.search_variants(query, threshold)

    def search_variants(self, codes: NDArray[np.uint8], threshold: int) -> list[MatchCandidate]:
        """Search the variants of one query (``uint8[k, 32]``, e.g. 8 dihedral hashes) at once.

        Returns:
            One candidate per matched id with its best distance over the variants and the
            lowest variant row reaching it, sorted by distance then id.
        """
        queries = _as_codes(codes)
        limit = _check_threshold(threshold)
        if queries.shape[0] == 0:
            return []
        rows, distances, variants = self._hits(queries, limit)
        if rows.shape[0] == 0:
            return []
        if rows.shape[0] > 1:
            order = np.lexsort((variants, distances, rows))
            rows, distances, variants = rows[order], distances[order], variants[order]
            first = np.ones(rows.shape[0], dtype=bool)
            first[1:] = rows[1:] != rows[:-1]
            rows, distances, variants = rows[first], distances[first], variants[first]
        ids = self._ids_of(rows)
        found = [
            MatchCandidate(int(d), int(i), int(v))
            for d, i, v in zip(distances.tolist(), ids.tolist(), variants.tolist(), strict=True)
        ]
        found.sort()
        return found

    def search_batch(
        self, codes: NDArray[np.uint8], starts: NDArray[np.int64], threshold: int
    ) -> dict[int, list[MatchCandidate]]:
        """Many queries, each of one or more variants, in one kernel call.

        Query ``q`` is ``codes[starts[q]:starts[q + 1]]``; see `PerceptualIndex.search_batch`.
        The kernel runs once over every row, so the Python cost per call is paid once for
        the whole batch rather than once per query.
        """
        queries = _as_codes(codes)
        limit = _check_threshold(threshold)
        bounds = np.ascontiguousarray(starts, dtype=np.int64).reshape(-1)
        if bounds.shape[0] < 1 or bounds[0] != 0 or bounds[-1] != queries.shape[0]:
            raise ValueError("starts must run from 0 to the number of code rows")
        if queries.shape[0] == 0:
            return {}
        rows, distances, query_rows = self._hits(queries, limit)
        if rows.shape[0] == 0:
            return {}
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
            self._ids_of(rows).tolist(),
            variants.tolist(),
            strict=True,
        ):
            found.setdefault(g, []).append(MatchCandidate(d, i, v))
        for candidates in found.values():
            candidates.sort()
        return found

    def _ids_of(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        main_count = self._codes.shape[0]
        if self._delta_ids.shape[0] == 0:
            return np.asarray(self._ids[rows], dtype=np.int64)
        in_main = rows < main_count
        ids = np.empty(rows.shape[0], dtype=np.int64)
        ids[in_main] = self._ids[rows[in_main]]
        ids[~in_main] = self._delta_ids[rows[~in_main] - main_count]
        return ids

    def _hits(self, queries: NDArray[np.uint8], threshold: int) -> _Hits:
        """Raw hits (rows, distances, variants), delta rows numbered after the main rows."""
        parts: list[_Hits] = []
        main_count = self._codes.shape[0]
        if main_count:
            plan = self._plan(threshold) if self.strategy != "scan" else None
            if plan is None:
                parts.append(self._scan(queries, threshold, self._codes64, self._dead))
            else:
                parts.append(self._probe(queries, threshold, *plan))
        if self._delta_codes.shape[0]:
            rows, distances, variants = self._scan(
                queries, threshold, self._delta_codes.view(np.uint64), np.zeros(0, np.uint8)
            )
            parts.append((rows + main_count, distances, variants))
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def _plan(self, threshold: int) -> tuple[NDArray[np.int64], int] | None:
        """Probe radii per chunk and the most probes of any chunk; None if a scan is cheaper."""
        key = (threshold, self.strategy)
        if key in self._plans:
            return self._plans[key]
        plan = probe_plan(
            self.chunk_widths, threshold, self._codes.shape[0], self.strategy == "auto"
        )
        self._plans[key] = plan
        return plan

    def _probe(
        self,
        queries: NDArray[np.uint8],
        threshold: int,
        radii: NDArray[np.int64],
        max_probes: int,
    ) -> _Hits:
        return self._split(
            pdq_kernels.mih_search,
            queries,
            threshold,
            radii,
            max_probes,
            self._codes64,
            self._positions,
            self._widths,
            self._offsets,
            self._offset_base,
            self._rows,
            self._dead,
        )

    def _scan(
        self,
        queries: NDArray[np.uint8],
        threshold: int,
        codes64: NDArray[np.uint64],
        dead: NDArray[np.uint8],
    ) -> _Hits:
        return self._split(pdq_kernels.scan_search, queries, threshold, codes64, dead)

    def _split(self, kernel: Callable[..., int], queries: NDArray[np.uint8], *args: Any) -> _Hits:
        """Run `kernel` over runs of query rows on `search_threads` threads; hits in row order."""
        rows = queries.shape[0]
        parts = min(self.search_threads, rows // MIN_ROWS_PER_THREAD)
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
            np.concatenate(
                [hits[2] + start for hits, start in zip(found, bounds[:-1], strict=True)]
            ),
        )

    # -- changes ------------------------------------------------------------------------------

    def add(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> None:
        """Add entries to the delta segment; an id already present is replaced.

        Compacts automatically when the pending changes pass the compaction limit.
        """
        code_array = _as_codes(codes)
        id_array = _as_ids(ids, code_array.shape[0])
        if id_array.shape[0] == 0:
            return
        self._remove(id_array)
        self._delta_codes = np.concatenate([self._delta_codes, code_array])
        self._delta_ids = np.concatenate([self._delta_ids, id_array])
        self._maybe_compact()

    def remove(self, ids: NDArray[np.int64]) -> int:
        """Remove every entry with one of `ids`; returns how many were removed."""
        id_array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        removed = self._remove(id_array)
        self._maybe_compact()
        return removed

    def _remove(self, ids: NDArray[np.int64]) -> int:
        if ids.shape[0] == 0:
            return 0
        removed = 0
        if self._codes.shape[0]:
            hit = np.isin(self._ids, ids)
            if self._dead.shape[0]:
                hit &= self._dead == 0
            newly_dead = int(hit.sum())
            if newly_dead:
                if self._dead.shape[0] == 0:
                    self._dead = np.zeros(self._codes.shape[0], np.uint8)
                self._dead[hit] = 1
                self._dead_count += newly_dead
                removed += newly_dead
        if self._delta_ids.shape[0]:
            keep = ~np.isin(self._delta_ids, ids)
            removed += int((~keep).sum())
            self._delta_codes = self._delta_codes[keep]
            self._delta_ids = self._delta_ids[keep]
        return removed

    def _maybe_compact(self) -> None:
        limit = max(MIN_DELTA_BEFORE_COMPACT, self.compact_fraction * self._codes.shape[0])
        if self.pending_changes > limit:
            self.compact()

    def compact(self) -> None:
        """Rebuild the main segment from its live rows plus the delta; clears both."""
        if self.pending_changes == 0:
            return
        live = slice(None) if self._dead.shape[0] == 0 else self._dead == 0
        codes = np.concatenate([self._codes[live], self._delta_codes])
        ids = np.concatenate([np.asarray(self._ids[live], dtype=np.int64), self._delta_ids])
        rebuilt = PdqIndex.build(ids, codes, compact_fraction=self.compact_fraction)
        rebuilt.strategy = self.strategy
        rebuilt.search_threads = self.search_threads
        self.__dict__.update(rebuilt.__dict__)

    # -- persistence --------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the index as ``.npy`` arrays plus ``manifest.json`` under `directory`.

        The files are written to a sibling folder first and swapped in by renames, so a
        reader (or this index, if memory-mapped from `directory`) never sees a half-written
        index; the old files stay readable by anyone who still maps them.

        Raises:
            StorageError: `directory` exists and is not a saved index.
        """
        target = Path(directory)
        staging = staging_folder(target)
        arrays: dict[str, NDArray[Any]] = {
            "codes": self._codes,
            "ids": self._ids,
            "positions": self._positions,
            "offsets": self._offsets,
            "rows": self._rows,
            "dead": self._dead,
            "delta_codes": self._delta_codes,
            "delta_ids": self._delta_ids,
        }
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", np.asarray(array), allow_pickle=False)
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "entries": int(self._codes.shape[0]),
            "chunk_widths": self.chunk_widths,
            "removed": self._dead_count,
            "delta_entries": int(self._delta_codes.shape[0]),
        }
        write_manifest(staging, manifest)
        swap_in(staging, target)

    @classmethod
    def load(
        cls,
        directory: Path,
        mmap: bool = True,
        *,
        compact_fraction: float = DEFAULT_COMPACT_FRACTION,
    ) -> PdqIndex:
        """Open an index written by `save`; with `mmap` the big arrays are mapped, not read.

        Raises:
            StorageError: missing files, another format or version, or inconsistent arrays.
        """
        folder = Path(directory)
        manifest = read_manifest(folder, FORMAT_NAME, FORMAT_VERSION)
        mode: Literal["r"] | None = "r" if mmap else None

        def read(name: str) -> NDArray[Any]:
            try:
                return np.asarray(
                    np.load(folder / f"{name}.npy", mmap_mode=mode, allow_pickle=False)
                )
            except (OSError, ValueError) as exc:
                raise StorageError(f"cannot read {name}.npy in {folder}") from exc

        widths = [int(w) for w in manifest["chunk_widths"]]
        index = cls(
            codes=read("codes"),
            ids=read("ids"),
            widths=widths,
            positions=read("positions"),
            offsets=read("offsets"),
            rows=read("rows"),
            dead=read("dead"),
            delta_codes=read("delta_codes"),
            delta_ids=read("delta_ids"),
            compact_fraction=compact_fraction,
        )
        index._check_shapes(int(manifest["entries"]))
        return index

    def _check_shapes(self, entries: int) -> None:
        widths = self._widths.tolist()
        expected_offsets = sum((1 << w) + 1 for w in widths)
        problems = [
            self._codes.shape != (entries, CODE_BYTES),
            self._ids.shape != (entries,),
            self._rows.shape != (N_CHUNKS - 1, entries),
            self._offsets.shape != (expected_offsets,),
            self._positions.shape != (N_CHUNKS, max(widths)),
            self._dead.shape not in ((0,), (entries,)),
            self._codes.dtype != np.uint8 or self._rows.dtype != np.uint32,
            self._offsets.dtype != np.uint32 or self._positions.dtype != np.int16,
        ]
        if any(problems):
            raise StorageError("PDQ index arrays do not match their manifest")


def _collect(kernel: Callable[..., int], *args: Any) -> _Hits:
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
