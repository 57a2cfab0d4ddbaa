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

Beside it: `mih_tables` builds the main segment's tables, `pdq_hits` runs the search
kernels (`pdq_kernels`) and makes candidates of their hits, `pdq_index_files` is the saved
form and `pdq_codes` converts and checks code arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from safeguard.matching import pdq_kernels
from safeguard.matching.contract import MatchCandidate
from safeguard.matching.mih_layout import check_chunk_widths, default_chunk_widths, probe_plan
from safeguard.matching.mih_tables import build_tables
from safeguard.matching.pdq_codes import CODE_BYTES, as_codes, as_ids, check_threshold
from safeguard.matching.pdq_hits import (
    Hits,
    best_candidates,
    best_candidates_per_query,
    joined,
    run_kernel,
    usable_cpus,
)
from safeguard.matching.pdq_index_files import (
    check_index_arrays,
    read_index_folder,
    write_index_folder,
)

__all__ = ["PdqIndex"]

DEFAULT_COMPACT_FRACTION = 0.005
MIN_DELTA_BEFORE_COMPACT = 20_000


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
            np.zeros((0, CODE_BYTES), np.uint8) if delta_codes is None else as_codes(delta_codes)
        )
        self._delta_ids = (
            np.zeros(0, np.int64)
            if delta_ids is None
            else as_ids(delta_ids, len(self._delta_codes))
        )
        self.compact_fraction = compact_fraction
        self.strategy: Literal["auto", "probe", "scan"] = "auto"
        """How the main segment is searched: ``auto`` picks the cheaper of probing and scanning
        per threshold; ``probe`` and ``scan`` force one (tests and benchmarks). All are exact."""
        self._plans: dict[tuple[int, str], tuple[NDArray[np.int64], int] | None] = {}
        self.search_threads = usable_cpus()
        """Threads a search of many query rows is split over (each takes a run of rows, at
        least `pdq_hits.MIN_ROWS_PER_THREAD`); 1 searches on the calling thread only. The results do
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
        code_array = as_codes(codes)
        id_array = as_ids(ids, code_array.shape[0])
        count = code_array.shape[0]
        widths = check_chunk_widths(
            chunk_widths if chunk_widths is not None else default_chunk_widths(count)
        )
        tables = build_tables(id_array, code_array, widths)
        return cls(
            codes=tables.codes,
            ids=tables.ids,
            widths=widths,
            positions=tables.positions,
            offsets=tables.offsets,
            rows=tables.rows,
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
        query = as_codes(code, "code")
        if query.shape[0] != 1:
            raise ValueError("search takes one code; use search_variants for several")
        return self.search_variants(query, threshold)

    def search_variants(self, codes: NDArray[np.uint8], threshold: int) -> list[MatchCandidate]:
        """Search the variants of one query (``uint8[k, 32]``, e.g. 8 dihedral hashes) at once.

        Returns:
            One candidate per matched id with its best distance over the variants and the
            lowest variant row reaching it, sorted by distance then id.
        """
        queries = as_codes(codes)
        limit = check_threshold(threshold)
        if queries.shape[0] == 0:
            return []
        hits = self._hits(queries, limit)
        if hits[0].shape[0] == 0:
            return []
        return best_candidates(hits, self._ids_of)

    def search_batch(
        self, codes: NDArray[np.uint8], starts: NDArray[np.int64], threshold: int
    ) -> dict[int, list[MatchCandidate]]:
        """Many queries, each of one or more variants, in one kernel call.

        Query ``q`` is ``codes[starts[q]:starts[q + 1]]``; see `PerceptualIndex.search_batch`.
        The kernel runs once over every row, so the Python cost per call is paid once for
        the whole batch rather than once per query.
        """
        queries = as_codes(codes)
        limit = check_threshold(threshold)
        bounds = np.ascontiguousarray(starts, dtype=np.int64).reshape(-1)
        if bounds.shape[0] < 1 or bounds[0] != 0 or bounds[-1] != queries.shape[0]:
            raise ValueError("starts must run from 0 to the number of code rows")
        if queries.shape[0] == 0:
            return {}
        hits = self._hits(queries, limit)
        if hits[0].shape[0] == 0:
            return {}
        return best_candidates_per_query(hits, bounds, self._ids_of)

    def _ids_of(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """The ids of `rows` (delta rows numbered after the main rows)."""
        main_count = self._codes.shape[0]
        if self._delta_ids.shape[0] == 0:
            return np.asarray(self._ids[rows], dtype=np.int64)
        in_main = rows < main_count
        ids = np.empty(rows.shape[0], dtype=np.int64)
        ids[in_main] = self._ids[rows[in_main]]
        ids[~in_main] = self._delta_ids[rows[~in_main] - main_count]
        return ids

    def _hits(self, queries: NDArray[np.uint8], threshold: int) -> Hits:
        """Raw hits (rows, distances, variants), delta rows numbered after the main rows."""
        parts: list[Hits] = []
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
        return joined(parts)

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
    ) -> Hits:
        return run_kernel(
            pdq_kernels.mih_search,
            queries,
            self.search_threads,
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
    ) -> Hits:
        return run_kernel(
            pdq_kernels.scan_search, queries, self.search_threads, threshold, codes64, dead
        )

    # -- changes ------------------------------------------------------------------------------

    def add(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> None:
        """Add entries to the delta segment; an id already present is replaced.

        Compacts automatically when the pending changes pass the compaction limit.
        """
        code_array = as_codes(codes)
        id_array = as_ids(ids, code_array.shape[0])
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
        index; the old files stay readable by anyone who still maps them
        (`safeguard.matching.pdq_index_files`).

        Raises:
            StorageError: `directory` exists and is not a saved index.
        """
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
        write_index_folder(Path(directory), arrays, self.chunk_widths, self._dead_count)

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
        widths, entries, arrays = read_index_folder(Path(directory), mmap)
        index = cls(
            codes=arrays["codes"],
            ids=arrays["ids"],
            widths=widths,
            positions=arrays["positions"],
            offsets=arrays["offsets"],
            rows=arrays["rows"],
            dead=arrays["dead"],
            delta_codes=arrays["delta_codes"],
            delta_ids=arrays["delta_ids"],
            compact_fraction=compact_fraction,
        )
        check_index_arrays(arrays, widths, entries)
        return index
