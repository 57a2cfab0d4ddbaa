"""Use case: match a file's hashes (or bare digests) against every enabled hash list.

Exact digests are looked up in an in-memory `ExactDigestIndex` over every stored MD5,
SHA-1 and SHA-256, and in reference lists (NSRL) where they lie. PDQ hashes are searched in
a `PdqIndex` over every stored PDQ entry, with all eight rotations/flips of the query when
the hash record has them. Both indexes are built once from the store's change log, saved
under ``<data_dir>/index/`` with the revision they reflect, and on later starts loaded and
brought up to date with only the changes since: adding or removing entries never rebuilds
them. A query touches the database only to read the revision (with `auto_refresh`) and to
fetch the few entries it matched, which are then cached.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import (
    CRYPTOGRAPHIC_ALGORITHMS,
    HEX_LENGTHS,
    HashAlgorithm,
    normalise_digest,
    photodna_spellings,
)
from safeguard.domain.errors import SafeguardError
from safeguard.domain.file_hashes import PDQ_MATCH_QUALITY_FLOOR, FileHashes
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import DEFAULT_PDQ_THRESHOLD, Match, effective_pdq_threshold
from safeguard.hashing.pdq import DIHEDRAL_ORDER
from safeguard.matching.contract import MatchCandidate, PerceptualIndex
from safeguard.services.exact_digests import ExactDigestKeeper, MatchedEntries
from safeguard.services.match_records import sort_matches
from safeguard.services.saved_indexes import IndexLoader, SavedIndexes
from safeguard.storage.hash_list_store import (
    PDQ_CODE_BYTES,
    HashListStore,
    PdqDelta,
    ReferenceList,
)

logger = logging.getLogger(__name__)

SAVE_AFTER_CHANGES = 10_000
"""Rows changed since the last save after which a refresh saves the indexes again."""

_EXACT = frozenset(CRYPTOGRAPHIC_ALGORITHMS)

ENTRY_CACHE_SIZE = 50_000
"""Matched entries kept in memory, most recently matched first; row ids are never reused and a
stored row never changes, so a cached entry stays right until its row is removed."""


@dataclass(frozen=True, slots=True)
class _Query:
    """One item to match.

    Attributes:
        digests: canonical cryptographic digests.
        pdq: ``(label, code)`` pairs to search: the original, its dihedral variants and
            recovered regions (trimmed borders, embedded pictures), each named so a match
            says which one matched; empty when PDQ is not to be used.
        quality: the query's PDQ quality, reported on PDQ matches.
    """

    digests: Mapping[HashAlgorithm, str]
    pdq: tuple[tuple[str, str], ...]
    quality: int | None


class ReferenceLookup(Protocol):
    """A list queried where it lies, such as `safeguard.list_formats.nsrl.NsrlDatabase`."""

    def lookup(self, algorithm: HashAlgorithm, values: Sequence[str]) -> dict[str, HashEntry]:
        """Entries for the values found, keyed by the canonical value."""
        ...


ReferenceOpener = Callable[[str], ReferenceLookup]
"""Opens a reference list from its stored location."""

IndexBuilder = Callable[[NDArray[np.int64], NDArray[np.uint8]], PerceptualIndex]
"""Builds a PDQ index from ids ``int64[N]`` and codes ``uint8[N, 32]``."""


def _open_nsrl(location: str) -> ReferenceLookup:
    from safeguard.list_formats.nsrl import NsrlDatabase

    return NsrlDatabase(Path(location))


def _build_pdq_index(ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> PerceptualIndex:
    from safeguard.matching.pdq_index import PdqIndex

    return PdqIndex.build(ids, codes)


def _load_pdq_index(directory: Path) -> PerceptualIndex:
    from safeguard.matching.pdq_index import PdqIndex

    return PdqIndex.load(directory, mmap=True)


_CANONICAL_HEX = {
    algorithm: re.compile(f"[0-9a-f]{{{length}}}") for algorithm, length in HEX_LENGTHS.items()
}


def _canonical(algorithm: HashAlgorithm, value: str) -> str:
    """`normalise_digest`, with a single regex test when the value is already canonical.

    Hash files and list readers give canonical values, and a batch pays this per value.
    """
    pattern = _CANONICAL_HEX.get(algorithm)
    if pattern is not None and pattern.fullmatch(value):
        return value
    return normalise_digest(algorithm, value)


def _delta_arrays(delta: PdqDelta) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    ids = np.asarray(delta.added_ids, dtype=np.int64)
    codes = np.frombuffer(delta.added_codes, dtype=np.uint8).reshape(-1, PDQ_CODE_BYTES)
    return ids, codes


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
        open_reference: ReferenceOpener = _open_nsrl,
        build_index: IndexBuilder = _build_pdq_index,
        load_index: IndexLoader = _load_pdq_index,
        save_after_changes: int = SAVE_AFTER_CHANGES,
        exact_in_memory: bool = True,
        entry_cache_size: int = ENTRY_CACHE_SIZE,
        revision_check_interval: float = 0.0,
    ) -> None:
        self._store = store
        self._index_dir = index_dir
        self._default_threshold = default_threshold
        self._quality_floor = quality_floor
        self._auto_refresh = auto_refresh
        self._open_reference = open_reference
        self._build_index = build_index
        self._load_index = load_index
        self._save_after_changes = max(1, save_after_changes)
        self._unsaved = 0
        self._saves: SavedIndexes[PerceptualIndex] | None = None
        self._lock = threading.RLock()
        self._index: PerceptualIndex | None = None
        self._revision = -1
        self._lists: dict[str, HashList] = {}
        self._references: list[ReferenceList] = []
        self._opened: dict[str, ReferenceLookup] = {}
        self._exact_keeper = ExactDigestKeeper(store, index_dir) if exact_in_memory else None
        self._entries = MatchedEntries(store, entry_cache_size)
        self._check_interval = max(0.0, revision_check_interval)
        self._checked_at = float("-inf")

    # --- freshness --------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The store revision the index reflects; -1 before the first refresh."""
        return self._revision

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
                self._exact_keeper is not None and self._exact_keeper.revision != self._revision
            )
            if self._index is not None and current == self._revision and not exact_behind:
                return self._revision
            # Cached entries of removed rows must not outlive the refresh that removes them.
            self._entries.clear()
            if self._index is None:
                self._index, self._revision = self._load_saved()
            if self._index is None or self._revision > current:
                # No saved index, or the database went back in time (restored): rebuild.
                delta = self._store.pdq_rows_since(0)
                self._index = self._build_index(*_delta_arrays(delta))
                self._unsaved = self._save_after_changes
            else:
                delta = self._store.pdq_rows_since(self._revision)
                if delta.removed_ids:
                    self._index.remove(np.asarray(delta.removed_ids, dtype=np.int64))
                if delta.added_ids:
                    self._index.add(*_delta_arrays(delta))
                self._unsaved += len(delta.added_ids) + len(delta.removed_ids)
            self._revision = delta.revision
            if self._exact_keeper is not None:
                changed = self._exact_keeper.catch_up(delta.revision)
                if changed is None:  # built from scratch: save it
                    self._unsaved = max(self._unsaved, self._save_after_changes)
                else:
                    self._unsaved += changed
            self._lists = {hl.name: hl for hl in self._store.all_lists()}
            self._references = self._store.reference_lists()
            self._close_unused_references()
            if self._unsaved and self._unsaved >= self._save_after_changes:
                self.save()
            return self._revision

    def _close_unused_references(self) -> None:
        locations = {reference.location for reference in self._references}
        for location in [loc for loc in self._opened if loc not in locations]:
            close = getattr(self._opened.pop(location), "close", None)
            if close is not None:
                close()

    def _ensure_fresh(self) -> PerceptualIndex:
        if self._index is None or (
            self._auto_refresh and time.monotonic() - self._checked_at >= self._check_interval
        ):
            self.refresh()
        assert self._index is not None  # refresh always leaves an index
        return self._index

    # --- persistence ------------------------------------------------------------------

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

    def save(self) -> None:
        """Save the index under `index_dir` with the revision it reflects (if there is one).

        Failures are logged, never raised: a missing save only costs a rebuild later.
        """
        with self._lock:
            self._save()

    def _save(self) -> None:
        saves = self._saved()
        if saves is None or self._index is None or not saves.save(self._index, self._revision):
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
        return self._match_queries([self._query_of(file_hashes)])[0]

    def match_many(self, many: Sequence[FileHashes]) -> list[list[Match]]:
        """`match_file_hashes` for many files at once: one store query per algorithm in all.

        Returns:
            One sorted list of matches per file, in the order given.
        """
        return self._match_queries([self._query_of(fh) for fh in many])

    def match_digests(
        self, digests: Mapping[HashAlgorithm, str], pdq_quality: int | None = None
    ) -> list[Match]:
        """Match digests that arrive without content (a report, a platform's own hashes).

        A PDQ hash is searched as given (its rotations cannot be derived from the hash);
        it is skipped when `pdq_quality` is given and below the floor.

        Raises:
            InvalidDigestError: a value does not fit its algorithm.
        """
        return self._match_queries([self._digest_query(digests, pdq_quality)])[0]

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
        return self._match_queries([self._digest_query(d, q) for d, q in items])

    def _digest_query(
        self, digests: Mapping[HashAlgorithm, str], pdq_quality: int | None
    ) -> _Query:
        canonical = {algo: _canonical(algo, value) for algo, value in digests.items()}
        pdq_value = canonical.pop(HashAlgorithm.PDQ, None)
        usable = pdq_quality is None or pdq_quality >= self._quality_floor
        pdq = (("original", pdq_value),) if pdq_value is not None and usable else ()
        return _Query(canonical, pdq, pdq_quality)

    def _query_of(self, file_hashes: FileHashes) -> _Query:
        pdq: list[tuple[str, str]] = []
        if (
            file_hashes.pdq is not None
            and file_hashes.pdq_fit_for_matching
            and (file_hashes.pdq_quality or 0) >= self._quality_floor
        ):
            variants = file_hashes.pdq_variants
            names = (
                DIHEDRAL_ORDER[1:]
                if len(variants) == len(DIHEDRAL_ORDER) - 1
                else tuple(f"variant-{n}" for n in range(1, len(variants) + 1))
            )
            pdq.append((DIHEDRAL_ORDER[0], file_hashes.pdq.lower()))
            pdq.extend((name, code.lower()) for name, code in zip(names, variants, strict=True))
        # Recovered regions passed their own quality and low-information checks in hashing,
        # so they count even when the whole picture (say, a screenshot) is too flat.
        pdq.extend((label, code.lower()) for label, code in file_hashes.pdq_regions)
        digests = {
            algo: normalise_digest(algo, value)
            for algo, value in file_hashes.digests.items()
            if (algo.is_cryptographic or algo is HashAlgorithm.PHOTODNA) and value
        }
        return _Query(digests, tuple(pdq), file_hashes.pdq_quality)

    def _match_queries(self, queries: Sequence[_Query]) -> list[list[Match]]:
        found: list[list[Match]] = [[] for _ in queries]
        with self._lock:
            index = self._ensure_fresh()
            exact_hits = self._exact(queries, found)
            searched = self._pdq_search(index, queries)
            wanted = [row_id for _, row_id, _ in exact_hits]
            wanted.extend(c.row_id for _, _, candidates in searched for c in candidates)
            entries = self._entries.get(wanted, self._lists)
            for position, row_id, algorithm in exact_hits:
                hit = entries.get(row_id)
                if hit is not None and hit[0].enabled:
                    found[position].append(Match.of_entry(hit[0], hit[1], algorithm))
            self._perceptual(searched, entries, found)
        return [sort_matches(matches) if len(matches) > 1 else matches for matches in found]

    def _exact(
        self, queries: Sequence[_Query], found: list[list[Match]]
    ) -> list[tuple[int, int, HashAlgorithm]]:
        """Match exact digests; reference-list matches go to `found` at once.

        Returns:
            ``(query position, row id, algorithm)`` of each hit in the stored lists, for the
            caller to fetch with the PDQ hits in one go.
        """
        hits: list[tuple[int, int, HashAlgorithm]] = []
        # One pass over the queries (most carry one digest, or none: PDQ only).
        by_algorithm: dict[HashAlgorithm, dict[str, list[int]]] = {}
        for position, query in enumerate(queries):
            for algorithm, value in query.digests.items():
                if value and algorithm in _EXACT:
                    by_algorithm.setdefault(algorithm, {}).setdefault(value, []).append(position)
        for algorithm in CRYPTOGRAPHIC_ALGORITHMS:
            asking = by_algorithm.get(algorithm)
            if not asking:
                continue
            if self._exact_keeper is not None:
                for value, row_ids in self._exact_keeper.lookup(algorithm, list(asking)).items():
                    for position in asking.get(value, ()):
                        hits.extend((position, row_id, algorithm) for row_id in row_ids)
            else:
                for stored in self._store.find_exact(algorithm, list(asking)):
                    self._entries.remember(stored.row_id, stored.hash_list.name, stored.entry)
                    for position in asking.get(stored.entry.digests[algorithm], ()):
                        hits.append((position, stored.row_id, algorithm))
            for reference in self._references:
                if not reference.hash_list.enabled:
                    continue
                reference_hits = self._reference_hits(reference, algorithm, list(asking))
                for value, entry in reference_hits.items():
                    match = Match.of_entry(reference.hash_list, entry, algorithm)
                    for position in asking.get(value, ()):
                        found[position].append(match)
        hits.extend(self._photodna_hits(queries))
        return hits

    def _photodna_hits(self, queries: Sequence[_Query]) -> list[tuple[int, int, HashAlgorithm]]:
        """Entries whose PhotoDNA value equals a query's (in any of its spellings).

        Only equality: distance matching of PhotoDNA needs Microsoft's licensed algorithm.
        """
        asking: dict[str, list[int]] = {}
        for position, query in enumerate(queries):
            value = query.digests.get(HashAlgorithm.PHOTODNA)
            if value:
                for spelling in photodna_spellings(value):
                    asking.setdefault(spelling, []).append(position)
        if not asking:
            return []
        hits: list[tuple[int, int, HashAlgorithm]] = []
        for stored in self._store.find_exact(HashAlgorithm.PHOTODNA, list(asking)):
            self._entries.remember(stored.row_id, stored.hash_list.name, stored.entry)
            value = stored.entry.digests[HashAlgorithm.PHOTODNA]
            for position in dict.fromkeys(asking.get(value, ())):
                hits.append((position, stored.row_id, HashAlgorithm.PHOTODNA))
        return hits

    def _reference_hits(
        self, reference: ReferenceList, algorithm: HashAlgorithm, values: Sequence[str]
    ) -> dict[str, HashEntry]:
        try:
            lookup = self._opened.get(reference.location)
            if lookup is None:
                lookup = self._open_reference(reference.location)
                self._opened[reference.location] = lookup
            return lookup.lookup(algorithm, values)
        except (OSError, SafeguardError) as exc:
            # A missing known-good list only means fewer files hidden, never fewer hits.
            # The type only: messages can quote part of a digest, and hashes stay out of logs.
            logger.warning(
                "reference list %r not searched (%s)", reference.hash_list.name, type(exc).__name__
            )
            return {}

    def _pdq_search(
        self, index: PerceptualIndex, queries: Sequence[_Query]
    ) -> list[tuple[int, _Query, list[MatchCandidate]]]:
        """Search the PDQ index once per query with the widest threshold of the enabled lists."""
        enabled = [hl for hl in self._lists.values() if hl.enabled]
        if not enabled or len(index) == 0:
            return []
        # Search once with the widest threshold; each hit then meets its own list's.
        widest = max(self.threshold_for(hl) for hl in enabled)
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

    def _perceptual(
        self,
        searched: list[tuple[int, _Query, list[MatchCandidate]]],
        entries: Mapping[int, tuple[HashList, HashEntry]],
        found: list[list[Match]],
    ) -> None:
        for position, query, candidates in searched:
            for candidate in candidates:
                hit = entries.get(candidate.row_id)
                if hit is None or not hit[0].enabled:
                    continue
                hash_list, entry = hit
                threshold = self.threshold_for(hash_list)
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
