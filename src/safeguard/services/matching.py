"""Use case: match a file's hashes (or bare digests) against every enabled hash list.

Exact digests are looked up in the store, and in reference lists (NSRL) where they lie.
PDQ hashes are searched in a `PdqIndex` over every stored PDQ entry, with all eight
rotations/flips of the query when the hash record has them. The index is built once from
the store's change log, saved under ``<data_dir>/index/`` with the revision it reflects,
and on later starts loaded and brought up to date with only the changes since: adding or
removing entries never rebuilds it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm, normalise_digest
from safeguard.domain.errors import SafeguardError
from safeguard.domain.file_hashes import PDQ_MATCH_QUALITY_FLOOR, FileHashes
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import DEFAULT_PDQ_THRESHOLD, Match
from safeguard.hashing.pdq import DIHEDRAL_ORDER
from safeguard.matching.contract import MatchCandidate, PerceptualIndex
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
"""PDQ rows changed since the last save after which a refresh saves the index again."""


@dataclass(frozen=True, slots=True)
class _Query:
    """One item to match.

    Attributes:
        digests: canonical cryptographic digests.
        pdq: PDQ codes to search, original first, then its variants; empty when PDQ is not
            to be used (absent, or below the quality floor).
        quality: the query's PDQ quality, reported on PDQ matches.
    """

    digests: Mapping[HashAlgorithm, str]
    pdq: tuple[str, ...]
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
        save_after_changes: save the index again once this many PDQ rows have changed.
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
        self._saves: SavedIndexes | None = None
        self._lock = threading.RLock()
        self._index: PerceptualIndex | None = None
        self._revision = -1
        self._lists: dict[str, HashList] = {}
        self._references: list[ReferenceList] = []
        self._opened: dict[str, ReferenceLookup] = {}

    # --- freshness --------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The store revision the index reflects; -1 before the first refresh."""
        return self._revision

    def threshold_for(self, hash_list: HashList) -> int:
        """The PDQ threshold that applies to `hash_list`."""
        if hash_list.pdq_threshold is not None:
            return hash_list.pdq_threshold
        return self._default_threshold

    def refresh(self) -> int:
        """Bring the index and list settings up to the store's revision; returns it.

        Cheap when nothing changed (one query). The first call loads the saved index (or
        builds and saves one); later calls apply only the change log since the index's
        revision. The index is saved again once `save_after_changes` rows have changed,
        since a later start can replay a short change log for less than a save costs.
        """
        with self._lock:
            current = self._store.current_revision()
            if self._index is not None and current == self._revision:
                return self._revision
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
        if self._auto_refresh or self._index is None:
            self.refresh()
        assert self._index is not None  # refresh always leaves an index
        return self._index

    # --- persistence ------------------------------------------------------------------

    def _saved(self) -> SavedIndexes | None:
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
        if (
            saves is not None
            and self._index is not None
            and saves.save(self._index, self._revision)
        ):
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
        canonical = {algo: normalise_digest(algo, value) for algo, value in digests.items()}
        pdq_value = canonical.pop(HashAlgorithm.PDQ, None)
        usable = pdq_quality is None or pdq_quality >= self._quality_floor
        pdq = (pdq_value,) if pdq_value is not None and usable else ()
        return self._match_queries([_Query(canonical, pdq, pdq_quality)])[0]

    def _query_of(self, file_hashes: FileHashes) -> _Query:
        pdq: tuple[str, ...] = ()
        if (
            file_hashes.pdq is not None
            and file_hashes.pdq_fit_for_matching
            and (file_hashes.pdq_quality or 0) >= self._quality_floor
        ):
            pdq = (file_hashes.pdq.lower(), *(v.lower() for v in file_hashes.pdq_variants))
        digests = {
            algo: normalise_digest(algo, value)
            for algo, value in file_hashes.digests.items()
            if algo.is_cryptographic and value
        }
        return _Query(digests, pdq, file_hashes.pdq_quality)

    def _match_queries(self, queries: Sequence[_Query]) -> list[list[Match]]:
        found: list[list[Match]] = [[] for _ in queries]
        with self._lock:
            index = self._ensure_fresh()
            self._exact(queries, found)
            self._perceptual(index, queries, found)
        return [sort_matches(matches) for matches in found]

    def _exact(self, queries: Sequence[_Query], found: list[list[Match]]) -> None:
        for algorithm in CRYPTOGRAPHIC_ALGORITHMS:
            asking: dict[str, list[int]] = {}
            for position, query in enumerate(queries):
                value = query.digests.get(algorithm)
                if value:
                    asking.setdefault(value, []).append(position)
            if not asking:
                continue
            for stored in self._store.find_exact(algorithm, list(asking)):
                if stored.hash_list.enabled:
                    match = self._as_match(stored.hash_list, stored.entry, algorithm)
                    for position in asking.get(stored.entry.digests[algorithm], ()):
                        found[position].append(match)
            for reference in self._references:
                if not reference.hash_list.enabled:
                    continue
                hits = self._reference_hits(reference, algorithm, list(asking))
                for value, entry in hits.items():
                    match = self._as_match(reference.hash_list, entry, algorithm)
                    for position in asking.get(value, ()):
                        found[position].append(match)

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

    def _perceptual(
        self, index: PerceptualIndex, queries: Sequence[_Query], found: list[list[Match]]
    ) -> None:
        enabled = [hl for hl in self._lists.values() if hl.enabled]
        if not enabled or len(index) == 0:
            return
        # Search once with the widest threshold; each hit then meets its own list's.
        widest = max(self.threshold_for(hl) for hl in enabled)
        searched: list[tuple[int, _Query, list[MatchCandidate]]] = []
        for position, query in enumerate(queries):
            if query.pdq:
                codes = np.frombuffer(b"".join(bytes.fromhex(c) for c in query.pdq), np.uint8)
                candidates = index.search_variants(codes.reshape(-1, PDQ_CODE_BYTES), widest)
                searched.append((position, query, candidates))
        row_ids = sorted({c.row_id for _, _, candidates in searched for c in candidates})
        rows = self._store.entries_by_rows(row_ids) if row_ids else {}
        for position, query, candidates in searched:
            names = DIHEDRAL_ORDER if len(query.pdq) == len(DIHEDRAL_ORDER) else ("original",)
            for candidate in candidates:
                stored = rows.get(candidate.row_id)
                if stored is None or not stored.hash_list.enabled:
                    continue
                threshold = self.threshold_for(stored.hash_list)
                if candidate.distance > threshold:
                    continue
                variant = (
                    names[candidate.variant]
                    if candidate.variant < len(names)
                    else f"variant-{candidate.variant}"
                )
                found[position].append(
                    self._as_match(
                        stored.hash_list,
                        stored.entry,
                        HashAlgorithm.PDQ,
                        distance=candidate.distance,
                        threshold=threshold,
                        quality=query.quality,
                        variant=variant,
                    )
                )

    @staticmethod
    def _as_match(
        hash_list: HashList,
        entry: HashEntry,
        algorithm: HashAlgorithm,
        *,
        distance: int = 0,
        threshold: int = 0,
        quality: int | None = None,
        variant: str = "original",
    ) -> Match:
        return Match(
            list_name=hash_list.name,
            list_kind=hash_list.kind,
            entry_id=entry.entry_id,
            algorithm=algorithm,
            distance=distance,
            threshold=threshold,
            list_version=hash_list.version,
            query_quality=quality,
            variant=variant,
            category=entry.category,
            provenance=entry.provenance,
        )
