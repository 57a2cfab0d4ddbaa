"""`MatchService`'s exact-digest side: an in-memory index kept fresh, and a cache of entries.

`ExactDigestKeeper` holds an `ExactDigestIndex` over every stored MD5, SHA-1 and SHA-256,
keyed by entry row id, and brings it up to a store revision from the change log
(`HashListStore.digest_rows_between` / `removed_rows_between`), loading and saving it with
`SavedIndexes` like the PDQ index. `MatchedEntries` caches the entries that matches fetched.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.services.saved_indexes import SavedIndexes
from safeguard.storage.hash_list_store import HashListStore

if TYPE_CHECKING:
    from safeguard.matching.exact_index import ExactDigestIndex


REBUILD_FRACTION = 0.25
"""Removals past this fraction of the indexed digests rebuild the index instead of applying
the change log: adding digests one by one costs several times more per digest than a build."""


def _load_exact_index(directory: Path) -> ExactDigestIndex:
    from safeguard.matching.exact_index import ExactDigestIndex

    return ExactDigestIndex.load(directory, mmap=True)


class ExactDigestKeeper:
    """One store's exact-digest index and the revision it reflects; not thread-safe.

    Args:
        store: where the lists live.
        index_dir: folder for saves (``<data_dir>/index``); None keeps it in memory only.
    """

    def __init__(self, store: HashListStore, index_dir: Path | None) -> None:
        self._store = store
        self._index_dir = index_dir
        self._saves: SavedIndexes[ExactDigestIndex] | None = None
        self._index: ExactDigestIndex | None = None
        self.revision = -1
        """The store revision the index reflects; -1 before the first `catch_up`."""

    def catch_up(self, upto: int) -> int | None:
        """Bring the index to revision `upto`: load the save, build, or apply the change log.

        Returns:
            Changes applied (rows removed plus digests added), or None when the index was
            built from scratch (and wants saving).
        """
        from safeguard.matching.exact_index import ExactDigestIndex

        if self._index is None:
            saves = self._saved()
            loaded = saves.load() if saves is not None else None
            if loaded is not None:
                self._index, self.revision = loaded
        changed: int | None = 0
        removed: Sequence[int] = ()
        if self._index is not None and self.revision < upto:
            removed = self._store.removed_rows_between(self.revision, upto)
        if (
            self._index is None
            or self.revision > upto
            or len(removed) > REBUILD_FRACTION * len(self._index)
        ):
            # No usable save, the database went back in time (restored), or most of the
            # index was replaced (a re-import): building afresh costs less than the delta.
            index = ExactDigestIndex()
            for algorithm in CRYPTOGRAPHIC_ALGORITHMS:
                rows = self._store.digest_rows_between(algorithm, 0, upto)
                index.build(algorithm, np.asarray(rows.ids, dtype=np.int64), rows.values)
            self._index = index
            changed = None
        elif self.revision < upto:
            if removed:
                self._index.remove(np.asarray(removed, dtype=np.int64))
            changed = len(removed)
            for algorithm in CRYPTOGRAPHIC_ALGORITHMS:
                rows = self._store.digest_rows_between(algorithm, self.revision, upto)
                if rows.ids:
                    self._index.add(algorithm, np.asarray(rows.ids, dtype=np.int64), rows.values)
                    changed += len(rows.ids)
        self.revision = upto
        return changed

    def lookup(self, algorithm: HashAlgorithm, values: list[str]) -> Mapping[str, list[int]]:
        """Row ids holding each canonical digest, hits only (empty before `catch_up`)."""
        if self._index is None:
            return {}
        return self._index.lookup(algorithm, values)

    def save(self) -> bool:
        """Save the index with its revision; True when saved (or there is nowhere to save)."""
        saves = self._saved()
        if saves is None or self._index is None:
            return True
        return saves.save(self._index, self.revision)

    def _saved(self) -> SavedIndexes[ExactDigestIndex] | None:
        if self._index_dir is None:
            return None
        if self._saves is None:
            self._saves = SavedIndexes(
                self._index_dir, self._store.store_identity(), _load_exact_index, kind="exact"
            )
        return self._saves


class MatchedEntries:
    """The entries matches fetched, by row id, least recently used dropped first.

    Row ids are never reused and a stored row never changes, so an entry stays right until
    its row is removed: `clear` whenever the store's revision moves. Not thread-safe.

    Args:
        store: where entries are fetched from (`HashListStore.entries_by_rows`).
        size: entries kept; 0 keeps none.
    """

    def __init__(self, store: HashListStore, size: int) -> None:
        self._store = store
        self._size = max(0, size)
        self._entries: OrderedDict[int, tuple[str, HashEntry]] = OrderedDict()

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def remember(self, row_id: int, list_name: str, entry: HashEntry) -> None:
        """Keep an entry fetched some other way."""
        if self._size:
            self._entries[row_id] = (list_name, entry)
            self._entries.move_to_end(row_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def get(
        self, row_ids: Iterable[int], lists: Mapping[str, HashList]
    ) -> dict[int, tuple[HashList, HashEntry]]:
        """The entries of these rows with their lists taken from `lists`, fetching misses.

        Rows gone from the store, or whose list is not in `lists`, are left out.
        """
        found: dict[int, tuple[str, HashEntry]] = {}
        missing: list[int] = []
        for row_id in dict.fromkeys(row_ids):
            hit = self._entries.get(row_id)
            if hit is None:
                missing.append(row_id)
            else:
                self._entries.move_to_end(row_id)
                found[row_id] = hit
        if missing:
            for row_id, stored in self._store.entries_by_rows(missing).items():
                found[row_id] = (stored.hash_list.name, stored.entry)
                self.remember(row_id, stored.hash_list.name, stored.entry)
        return {
            row_id: (lists[name], entry) for row_id, (name, entry) in found.items() if name in lists
        }
