"""Use case: match a file's hashes (or bare digests) against every enabled hash list.

Exact digests are looked up in an in-memory `ExactDigestIndex` over every stored MD5,
SHA-1 and SHA-256, and in reference lists (NSRL) where they lie. PDQ hashes are searched in
a `PdqIndex` over every stored PDQ entry, with all eight rotations/flips of the query when
the hash record has them. Both indexes are built once from the store's change log, saved
under ``<data_dir>/index/`` with the revision they reflect, and on later starts loaded and
brought up to date with only the changes since: adding or removing entries never rebuilds
them. A query touches the database only to read the revision (with `auto_refresh`) and to
fetch the few entries it matched, which are then cached.

`MatchService` keeps the indexes fresh and assembles each batch's matches; the parts live
beside it: `match_queries` (what is matched), `exact_matching` with `exact_digests` (the
exact side), `pdq_matching` (the PDQ index and its search).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import PDQ_MATCH_QUALITY_FLOOR, FileHashes
from safeguard.domain.hash_lists import HashList
from safeguard.domain.matches import DEFAULT_PDQ_THRESHOLD, Match, effective_pdq_threshold
from safeguard.matching.contract import PerceptualIndex
from safeguard.services.exact_digests import ExactDigestKeeper, MatchedEntries
from safeguard.services.exact_matching import (
    ReferenceLists,
    ReferenceOpener,
    exact_hits,
    open_nsrl,
)
from safeguard.services.match_queries import MatchQuery, digest_query, file_query
from safeguard.services.match_records import sort_matches
from safeguard.services.pdq_matching import (
    IndexBuilder,
    PdqIndexKeeper,
    add_pdq_matches,
    build_pdq_index,
    load_pdq_index,
    search_pdq,
)
from safeguard.services.saved_indexes import IndexLoader
from safeguard.storage.hash_list_store import HashListStore

SAVE_AFTER_CHANGES = 10_000
"""Rows changed since the last save after which a refresh saves the indexes again."""

ENTRY_CACHE_SIZE = 50_000
"""Matched entries kept in memory, most recently matched first; row ids are never reused and a
stored row never changes, so a cached entry stays right until its row is removed."""


class MatchService:
    """Matches hashes against the enabled lists of one store; safe to share between threads.

    Args:
        store: where the lists live.
        index_dir: folder for the saved PDQ index (``<data_dir>/index``); None keeps it in
            memory only.
        default_threshold: PDQ Hamming threshold for lists that set none.
        quality_floor: PDQ hashes of lower quality are not used for matching.
        auto_refresh: check the store's revision before each match (one small query) and
            catch up when it moved; turn off when a caller refreshes on its own schedule.
        open_reference: opens reference lists (NSRL) by location.
        build_index, load_index: make the PDQ index (the defaults use `PdqIndex`).
        save_after_changes: save the indexes again once this many rows have changed.
        exact_in_memory: look exact digests up in an in-memory `ExactDigestIndex` kept
            fresh from the change log (the default); False asks the store each time, which
            saves the index's memory (24-40 bytes per digest) for small deployments.
        entry_cache_size: matched entries kept in memory (`ENTRY_CACHE_SIZE`).
        revision_check_interval: with `auto_refresh`, seconds during which a checked
            revision is trusted before the next match checks again. 0 (the default) checks
            before every match; a small value (0.1) bounds staleness while sparing the
            database round trip that otherwise dominates a match.
    """

    def __init__(
        self,
        store: HashListStore,
        *,
        index_dir: Path | None = None,
        default_threshold: int = DEFAULT_PDQ_THRESHOLD,
        quality_floor: int = PDQ_MATCH_QUALITY_FLOOR,
        auto_refresh: bool = True,
        open_reference: ReferenceOpener = open_nsrl,
        build_index: IndexBuilder = build_pdq_index,
        load_index: IndexLoader = load_pdq_index,
        save_after_changes: int = SAVE_AFTER_CHANGES,
        exact_in_memory: bool = True,
        entry_cache_size: int = ENTRY_CACHE_SIZE,
        revision_check_interval: float = 0.0,
    ) -> None:
        self._store = store
        self._default_threshold = default_threshold
        self._quality_floor = quality_floor
        self._auto_refresh = auto_refresh
        self._save_after_changes = max(1, save_after_changes)
        self._unsaved = 0
        self._lock = threading.RLock()
        self._pdq = PdqIndexKeeper(store, index_dir, build_index, load_index)
        self._lists: dict[str, HashList] = {}
        self._references = ReferenceLists(open_reference)
        self._exact_keeper = ExactDigestKeeper(store, index_dir) if exact_in_memory else None
        self._entries = MatchedEntries(store, entry_cache_size)
        self._check_interval = max(0.0, revision_check_interval)
        self._checked_at = float("-inf")

    # --- freshness --------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The store revision the index reflects; -1 before the first refresh."""
        return self._pdq.revision

    def threshold_for(self, hash_list: HashList) -> int:
        """The PDQ threshold that applies to `hash_list` (a stored one capped)."""
        return effective_pdq_threshold(hash_list.pdq_threshold, self._default_threshold)

    def refresh(self) -> int:
        """Bring the index and list settings up to the store's revision; returns it.

        Cheap when nothing changed (one query). The first call loads the saved indexes (or
        builds and saves them); later calls apply only the change log since each index's
        revision. The indexes are saved again once `save_after_changes` rows have changed,
        since a later start can replay a short change log for less than a save costs.
        """
        with self._lock:
            current = self._store.current_revision()
            self._checked_at = time.monotonic()
            exact_behind = (
                self._exact_keeper is not None and self._exact_keeper.revision != self._pdq.revision
            )
            if self._pdq.index is not None and current == self._pdq.revision and not exact_behind:
                return self._pdq.revision
            # Cached entries of removed rows must not outlive the refresh that removes them.
            self._entries.clear()
            changed = self._pdq.catch_up(current)
            if changed is None:  # built from scratch: save it
                self._unsaved = self._save_after_changes
            else:
                self._unsaved += changed
            if self._exact_keeper is not None:
                changed = self._exact_keeper.catch_up(self._pdq.revision)
                if changed is None:  # built from scratch: save it
                    self._unsaved = max(self._unsaved, self._save_after_changes)
                else:
                    self._unsaved += changed
            self._lists = {hl.name: hl for hl in self._store.all_lists()}
            self._references.replace(self._store.reference_lists())
            if self._unsaved and self._unsaved >= self._save_after_changes:
                self.save()
            return self._pdq.revision

    def _ensure_fresh(self) -> PerceptualIndex:
        index = self._pdq.index
        if index is None or (
            self._auto_refresh and time.monotonic() - self._checked_at >= self._check_interval
        ):
            self.refresh()
            index = self._pdq.index
        assert index is not None  # refresh always leaves an index
        return index

    # --- persistence ------------------------------------------------------------------

    def save(self) -> None:
        """Save the index under `index_dir` with the revision it reflects (if there is one).

        Failures are logged, never raised: a missing save only costs a rebuild later.
        """
        with self._lock:
            self._save()

    def _save(self) -> None:
        if not self._pdq.save():
            return
        if self._exact_keeper is not None and not self._exact_keeper.save():
            return
        self._unsaved = 0

    # --- matching ---------------------------------------------------------------------

    def match_file_hashes(self, file_hashes: FileHashes) -> list[Match]:
        """Every match of one file's hashes against the enabled lists, sorted (`sort_matches`).

        The PDQ hash is used only when fit for matching and at or above the quality floor;
        its seven dihedral variants are searched too when the record has them.

        Raises:
            InvalidDigestError: a digest in the record does not fit its algorithm.
        """
        return self._match_queries([file_query(file_hashes, self._quality_floor)])[0]

    def match_many(self, many: Sequence[FileHashes]) -> list[list[Match]]:
        """`match_file_hashes` for many files at once: one store query per algorithm in all.

        Returns:
            One sorted list of matches per file, in the order given.
        """
        floor = self._quality_floor
        return self._match_queries([file_query(fh, floor) for fh in many])

    def match_digests(
        self, digests: Mapping[HashAlgorithm, str], pdq_quality: int | None = None
    ) -> list[Match]:
        """Match digests that arrive without content (a report, a platform's own hashes).

        A PDQ hash is searched as given (its rotations cannot be derived from the hash);
        it is skipped when `pdq_quality` is given and below the floor.

        Raises:
            InvalidDigestError: a value does not fit its algorithm.
        """
        return self._match_queries([digest_query(digests, pdq_quality, self._quality_floor)])[0]

    def match_digests_many(
        self, items: Sequence[tuple[Mapping[HashAlgorithm, str], int | None]]
    ) -> list[list[Match]]:
        """`match_digests` for many ``(digests, pdq_quality)`` items at once.

        The batch pays one revision check, one index search, one lookup per digest
        algorithm and one fetch of the matched entries, however many items it holds.

        Returns:
            One sorted list of matches per item, in the order given.

        Raises:
            InvalidDigestError: a value does not fit its algorithm (nothing is matched).
        """
        floor = self._quality_floor
        return self._match_queries([digest_query(d, q, floor) for d, q in items])

    def _match_queries(self, queries: Sequence[MatchQuery]) -> list[list[Match]]:
        found: list[list[Match]] = [[] for _ in queries]
        with self._lock:
            index = self._ensure_fresh()
            hits = exact_hits(
                queries,
                found,
                keeper=self._exact_keeper,
                store=self._store,
                entries=self._entries,
                references=self._references,
            )
            searched = search_pdq(index, queries, self._lists, self.threshold_for)
            wanted = [row_id for _, row_id, _ in hits]
            wanted.extend(c.row_id for _, _, candidates in searched for c in candidates)
            entries = self._entries.get(wanted, self._lists)
            for position, row_id, algorithm in hits:
                hit = entries.get(row_id)
                if hit is not None and hit[0].enabled:
                    found[position].append(Match.of_entry(hit[0], hit[1], algorithm))
            add_pdq_matches(searched, entries, found, self.threshold_for)
        return [sort_matches(matches) if len(matches) > 1 else matches for matches in found]
