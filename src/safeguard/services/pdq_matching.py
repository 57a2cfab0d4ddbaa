"""`MatchService`'s PDQ side: the index kept fresh, one batched search, the PDQ matches.

`PdqIndexKeeper` holds a `PerceptualIndex` over every stored PDQ entry, keyed by entry row
id, and brings it up to the store's revision from the change log
(`HashListStore.pdq_rows_since`), loading and saving it with `SavedIndexes` (kind ``pdq``).
`search_pdq` searches every query of a batch in one kernel call with the widest threshold
of the enabled lists; `add_pdq_matches` keeps the hits within their own list's threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import Match
from safeguard.matching.contract import MatchCandidate, PerceptualIndex
from safeguard.services.match_queries import MatchQuery
from safeguard.services.saved_indexes import IndexLoader, SavedIndexes
from safeguard.storage.hash_list_store import PDQ_CODE_BYTES, HashListStore, PdqDelta

IndexBuilder = Callable[[NDArray[np.int64], NDArray[np.uint8]], PerceptualIndex]
"""Builds a PDQ index from ids ``int64[N]`` and codes ``uint8[N, 32]``."""

ThresholdOf = Callable[[HashList], int]
"""The PDQ threshold that applies to a list: `MatchService.threshold_for`."""

PdqHits = list[tuple[int, MatchQuery, list[MatchCandidate]]]
"""``(query position, query, candidates)`` for each query of a batch the index found."""


def build_pdq_index(ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> PerceptualIndex:
    """A `PdqIndex` over `ids` ``int64[N]`` and their `codes` ``uint8[N, 32]``."""
    from safeguard.matching.pdq_index import PdqIndex

    return PdqIndex.build(ids, codes)


def load_pdq_index(directory: Path) -> PerceptualIndex:
    """The `PdqIndex` saved in `directory`, memory-mapped."""
    from safeguard.matching.pdq_index import PdqIndex

    return PdqIndex.load(directory, mmap=True)


def _delta_arrays(delta: PdqDelta) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    ids = np.asarray(delta.added_ids, dtype=np.int64)
    codes = np.frombuffer(delta.added_codes, dtype=np.uint8).reshape(-1, PDQ_CODE_BYTES)
    return ids, codes


class PdqIndexKeeper:
    """One store's PDQ index and the revision it reflects; not thread-safe.

    Args:
        store: where the lists live.
        index_dir: folder for saves (``<data_dir>/index``); None keeps it in memory only.
        build_index, load_index: make the index (`build_pdq_index`, `load_pdq_index`).
    """

    def __init__(
        self,
        store: HashListStore,
        index_dir: Path | None,
        build_index: IndexBuilder,
        load_index: IndexLoader,
    ) -> None:
        self._store = store
        self._index_dir = index_dir
        self._build_index = build_index
        self._load_index = load_index
        self._saves: SavedIndexes[PerceptualIndex] | None = None
        self.index: PerceptualIndex | None = None
        """The index; None before the first `catch_up`."""
        self.revision = -1
        """The store revision the index reflects; -1 before the first `catch_up`."""

    def catch_up(self, current: int) -> int | None:
        """Bring the index up to the store: load the save, build, or apply the change log.

        The first call loads the saved index; it is built afresh when there is none or
        when it is ahead of `current` (the database went back in time). `revision` is then
        the change log's, which may be past `current` when the store moved meanwhile.

        Args:
            current: the store revision just read.

        Returns:
            Changes applied (rows added plus removed), or None when the index was built
            from scratch (and wants saving).
        """
        if self.index is None:
            self.index, self.revision = self._load_saved()
        changed: int | None
        if self.index is None or self.revision > current:
            # No saved index, or the database went back in time (restored): rebuild.
            delta = self._store.pdq_rows_since(0)
            self.index = self._build_index(*_delta_arrays(delta))
            changed = None
        else:
            delta = self._store.pdq_rows_since(self.revision)
            if delta.removed_ids:
                self.index.remove(np.asarray(delta.removed_ids, dtype=np.int64))
            if delta.added_ids:
                self.index.add(*_delta_arrays(delta))
            changed = len(delta.added_ids) + len(delta.removed_ids)
        self.revision = delta.revision
        return changed

    def save(self) -> bool:
        """Save the index with its revision; True only when saved (failures are logged)."""
        saves = self._saved()
        return (
            saves is not None and self.index is not None and saves.save(self.index, self.revision)
        )

    def _saved(self) -> SavedIndexes[PerceptualIndex] | None:
        if self._index_dir is None:
            return None
        if self._saves is None:
            self._saves = SavedIndexes(
                self._index_dir, self._store.store_identity(), self._load_index
            )
        return self._saves

    def _load_saved(self) -> tuple[PerceptualIndex | None, int]:
        saves = self._saved()
        loaded = saves.load() if saves is not None else None
        return loaded if loaded is not None else (None, -1)


def search_pdq(
    index: PerceptualIndex,
    queries: Sequence[MatchQuery],
    lists: Mapping[str, HashList],
    threshold_for: ThresholdOf,
) -> PdqHits:
    """Search the PDQ index once per query with the widest threshold of the enabled lists.

    Returns:
        The queries with candidates, in query order; empty when no list is enabled, the
        index is empty or no query has PDQ codes. A candidate may be past its own list's
        threshold (`add_pdq_matches` checks).
    """
    enabled = [hl for hl in lists.values() if hl.enabled]
    if not enabled or len(index) == 0:
        return []
    # Search once with the widest threshold; each hit then meets its own list's.
    widest = max(threshold_for(hl) for hl in enabled)
    positions = [position for position, query in enumerate(queries) if query.pdq]
    if not positions:
        return []
    # One kernel call for the whole batch: the rows of every query's codes, back to back.
    joined = b"".join(bytes.fromhex(code) for p in positions for _, code in queries[p].pdq)
    codes = np.frombuffer(joined, np.uint8).reshape(-1, PDQ_CODE_BYTES)
    starts = np.zeros(len(positions) + 1, dtype=np.int64)
    np.cumsum([len(queries[p].pdq) for p in positions], out=starts[1:])
    hits = index.search_batch(codes, starts, widest)
    return [
        (positions[number], queries[positions[number]], candidates)
        for number, candidates in sorted(hits.items())
    ]


def add_pdq_matches(
    searched: PdqHits,
    entries: Mapping[int, tuple[HashList, HashEntry]],
    found: list[list[Match]],
    threshold_for: ThresholdOf,
) -> None:
    """Append to ``found[position]`` a PDQ `Match` for each candidate within its list's threshold.

    Candidates whose row is not in `entries` (removed, or of a list not loaded) or whose
    list is disabled are skipped. Each match names the variant or region that matched and
    carries the query's quality.
    """
    for position, query, candidates in searched:
        for candidate in candidates:
            hit = entries.get(candidate.row_id)
            if hit is None or not hit[0].enabled:
                continue
            hash_list, entry = hit
            threshold = threshold_for(hash_list)
            if candidate.distance > threshold:
                continue
            variant = query.pdq[candidate.variant][0]
            found[position].append(
                Match.of_entry(
                    hash_list,
                    entry,
                    HashAlgorithm.PDQ,
                    distance=candidate.distance,
                    threshold=threshold,
                    quality=query.quality,
                    variant=variant,
                )
            )
