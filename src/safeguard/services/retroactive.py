"""Retroactive matching: when entries are added to a list, re-match past uploads' hashes.

The service keeps the hashes of what it has seen (`SeenUpload`), never content. New
entries are looked up among them (exact digests by index, PDQ by brute-force Hamming
distance over every seen PDQ hash), and new hits go through the same actions as live ones.
Hits already acted on are claimed in the store, so no hit is acted on twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import DEFAULT_PDQ_THRESHOLD, Match
from safeguard.services.actions import ActionOutcome, ActionService
from safeguard.storage.service_store import ServiceStore

_PAGE = 100_000


@dataclass(frozen=True, slots=True)
class RetroactiveHit:
    """A past upload that matches newly added entries, and what its actions did."""

    upload_id: int
    matches: tuple[Match, ...]
    outcome: ActionOutcome


def _codes(hex_values: Iterable[str]) -> npt.NDArray[np.uint64]:
    raw = b"".join(bytes.fromhex(h) for h in hex_values)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


class RetroactiveMatcher:
    """Re-matches seen uploads against entries added to a list."""

    def __init__(
        self,
        store: ServiceStore,
        actions: ActionService,
        default_threshold: int = DEFAULT_PDQ_THRESHOLD,
    ) -> None:
        self._store = store
        self._actions = actions
        self._default_threshold = default_threshold

    def rematch(
        self, hash_list: HashList, entries: Iterable[HashEntry], lists: Mapping[str, HashList]
    ) -> list[RetroactiveHit]:
        """Find past uploads matching `entries` of `hash_list` and act on the new hits.

        Args:
            hash_list: the list the entries belong to (its threshold and kind apply).
            entries: the added entries.
            lists: every list by name (the actions of `hash_list` are read from here or
                from `hash_list` itself).

        Returns:
            One hit per past upload with new matches. Nothing is done for a disabled list.
        """
        if not hash_list.enabled:
            return []
        found: dict[int, list[Match]] = {}
        pdq_entries: list[HashEntry] = []
        for entry in entries:
            for algorithm in CRYPTOGRAPHIC_ALGORITHMS:
                value = entry.digests.get(algorithm)
                if value is None:
                    continue
                for upload in self._store.seen_with_digest(algorithm, value):
                    found.setdefault(upload.upload_id, []).append(
                        self._match(hash_list, entry, algorithm, 0, 0, None)
                    )
            if entry.digests.get(HashAlgorithm.PDQ):
                pdq_entries.append(entry)
        if pdq_entries:
            self._rematch_pdq(hash_list, pdq_entries, found)
        lists = {**lists, hash_list.name: hash_list}
        hits = []
        for upload_id, matches in sorted(found.items()):
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

    def _rematch_pdq(
        self, hash_list: HashList, entries: list[HashEntry], found: dict[int, list[Match]]
    ) -> None:
        threshold = (
            hash_list.pdq_threshold
            if hash_list.pdq_threshold is not None
            else self._default_threshold
        )
        entry_codes = _codes(e.digests[HashAlgorithm.PDQ] for e in entries)
        after = 0
        while True:
            page = self._store.seen_pdq(after_id=after, limit=_PAGE)
            if not page:
                return
            after = page[-1][0]
            seen_ids = [upload_id for upload_id, _ in page]
            seen_codes = _codes(code for _, code in page)
            for index, entry in enumerate(entries):
                xor = np.bitwise_xor(seen_codes, entry_codes[index])
                distances = np.bitwise_count(xor).sum(axis=1)
                for row in np.flatnonzero(distances <= threshold):
                    found.setdefault(seen_ids[row], []).append(
                        self._match(
                            hash_list,
                            entry,
                            HashAlgorithm.PDQ,
                            int(distances[row]),
                            threshold,
                            None,
                        )
                    )

    @staticmethod
    def _match(
        hash_list: HashList,
        entry: HashEntry,
        algorithm: HashAlgorithm,
        distance: int,
        threshold: int,
        quality: int | None,
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
            category=entry.category,
            provenance=entry.provenance,
        )
