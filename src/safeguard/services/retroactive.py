"""Retroactive matching: when entries are added to a list, re-match past uploads' hashes.

The service keeps the hashes of what it has seen (`SeenUpload`), never content. New
entries are looked up among them: exact digests in batches by the store's index, PDQ
hashes by radius search in a `PdqIndex` built over the seen PDQ hashes (exact, never
misses), so a large import costs one index build plus one search per entry. New hits go
through the same actions as live ones; hits already acted on are claimed in the store, so
no hit is acted on twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm, normalise_digest
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import DEFAULT_PDQ_THRESHOLD, Match, effective_pdq_threshold
from safeguard.matching.pdq_index import PdqIndex
from safeguard.services.actions import ActionOutcome, ActionService
from safeguard.storage.service_store import ServiceStore

_PAGE = 100_000
_LOOKUP_BATCH = 500

MAX_HITS_PER_CHANGE = 1000
"""Past uploads acted on (reports drafted, webhooks queued) for one list change at most.
Beyond it the change is stopped and logged: so many hits mean a mistaken entry or
threshold, and a person should look before thousands of reports are drafted."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetroactiveHit:
    """A past upload that matches newly added entries, and what its actions did."""

    upload_id: int
    matches: tuple[Match, ...]
    outcome: ActionOutcome


class RetroactiveMatcher:
    """Re-matches seen uploads against entries added to a list."""

    def __init__(
        self,
        store: ServiceStore,
        actions: ActionService,
        default_threshold: int = DEFAULT_PDQ_THRESHOLD,
        max_hits: int = MAX_HITS_PER_CHANGE,
    ) -> None:
        self._store = store
        self._actions = actions
        self._default_threshold = default_threshold
        self._max_hits = max_hits

    def rematch(
        self, hash_list: HashList, entries: Iterable[HashEntry], lists: Mapping[str, HashList]
    ) -> list[RetroactiveHit]:
        """Find past uploads matching `entries` of `hash_list` and act on the new hits.

        Args:
            hash_list: the list the entries belong to (its threshold, kind, actions apply).
            entries: the added entries (read once).
            lists: every list by name, for the actions.

        Returns:
            One hit per past upload with new matches. Nothing is done for a disabled list.
        """
        if not hash_list.enabled:
            return []
        found: dict[int, list[Match]] = {}
        exact: dict[HashAlgorithm, dict[str, list[HashEntry]]] = {
            algorithm: {} for algorithm in CRYPTOGRAPHIC_ALGORITHMS
        }
        pdq_entries: list[tuple[str, HashEntry]] = []
        for entry in entries:
            for algorithm, value in entry.digests.items():
                if algorithm in exact:
                    canonical = normalise_digest(algorithm, value)
                    exact[algorithm].setdefault(canonical, []).append(entry)
                elif algorithm is HashAlgorithm.PDQ:
                    pdq_entries.append((normalise_digest(algorithm, value), entry))
        for algorithm, by_value in exact.items():
            values = list(by_value)
            for start in range(0, len(values), _LOOKUP_BATCH):
                batch = values[start : start + _LOOKUP_BATCH]
                for upload in self._store.seen_with_digests(algorithm, batch):
                    for entry in by_value.get(upload.digests.get(algorithm, ""), []):
                        found.setdefault(upload.upload_id, []).append(
                            Match.of_entry(hash_list, entry, algorithm)
                        )
        if pdq_entries:
            self._rematch_pdq(hash_list, pdq_entries, found)
        return self._act(hash_list, found, lists)

    def _rematch_pdq(
        self,
        hash_list: HashList,
        entries: list[tuple[str, HashEntry]],
        found: dict[int, list[Match]],
    ) -> None:
        threshold = effective_pdq_threshold(hash_list.pdq_threshold, self._default_threshold)
        ids: list[int] = []
        codes: list[bytes] = []
        after = 0
        while page := self._store.seen_pdq(after_id=after, limit=_PAGE):
            after = page[-1][0]
            ids.extend(upload_id for upload_id, _ in page)
            codes.extend(bytes.fromhex(code) for _, code in page)
        if not ids:
            return
        index = PdqIndex.build(
            np.asarray(ids, dtype=np.int64),
            np.frombuffer(b"".join(codes), dtype=np.uint8).reshape(-1, 32),
        )
        for value, entry in entries:
            query = np.frombuffer(bytes.fromhex(value), dtype=np.uint8)
            for candidate in index.search(query, threshold):
                found.setdefault(candidate.row_id, []).append(
                    Match.of_entry(
                        hash_list,
                        entry,
                        HashAlgorithm.PDQ,
                        distance=candidate.distance,
                        threshold=threshold,
                    )
                )

    def _act(
        self,
        hash_list: HashList,
        found: Mapping[int, list[Match]],
        lists: Mapping[str, HashList],
    ) -> list[RetroactiveHit]:
        lists = {**lists, hash_list.name: hash_list}
        hits: list[RetroactiveHit] = []
        for upload_id, matches in sorted(found.items()):
            if len(hits) >= self._max_hits:
                logger.warning(
                    "retroactive matching of list changes stopped after %d hits "
                    "(%d past uploads matched); check the entries and threshold",
                    len(hits),
                    len(found),
                )
                break
            fresh = [
                m for m in matches if self._store.claim_hit(upload_id, m.list_name, m.entry_id)
            ]
            if not fresh:
                continue
            upload = self._store.get_seen(upload_id)
            fresh = [
                m if m.is_exact else replace(m, query_quality=upload.pdq_quality) for m in fresh
            ]
            outcome = self._actions.act(upload, fresh, lists, retroactive=True)
            hits.append(RetroactiveHit(upload_id, tuple(fresh), outcome))
        return hits
