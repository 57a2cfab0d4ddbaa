"""Retroactive matching: when entries are added to a list, re-match past uploads' hashes.

The service keeps the hashes of what it has seen (`SeenUpload`), never content. A list
change's added entries are compiled once into a `JobMatcher`, which then takes past uploads
in batches ordered by upload id, so the work of one change is cut into bounded steps that a
job (`safeguard.services.platform.retroactive_jobs`) runs, saving its cursor after each.

Two ways to find a batch's candidates, chosen by the entries:

* lookup: a few exact digests and no PDQ hash: the store's digest indexes give the past
  uploads holding them (after the cursor), so a one-entry change never reads every upload;
* scan: PDQ hashes, or many digests: the hashes of the next `batch_size` past uploads (with
  a PDQ hash, when the entries have only PDQ hashes) are read and compared in memory, PDQ
  ones by radius search in a `PdqIndex` built over the entries (exact, never misses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import Match
from safeguard.matching.pdq_index import PdqIndex
from safeguard.services.platform.actions import ActionOutcome
from safeguard.storage.service_store import SeenHashes, ServiceStore

LOOKUP_BATCH = 500
"""Digests per store query (the store takes up to 1,000)."""

MAX_LOOKUP_DIGESTS = 10_000
"""Entries' exact digests up to which candidates are looked up by digest, not scanned for."""


@dataclass(frozen=True, slots=True)
class RetroactiveHit:
    """A past upload that matches newly added entries, and what its actions did."""

    upload_id: int
    matches: tuple[Match, ...]
    outcome: ActionOutcome


@dataclass(frozen=True, slots=True)
class Batch:
    """One step's past uploads.

    Attributes:
        uploads: the candidates, by id (with lookup, only uploads holding a digest).
        cursor: the id up to which every past upload has been covered by this batch.
        exhausted: True when no past upload after `cursor` is left to look at.
        checked: past uploads this batch covered (read, or found by digest).
    """

    uploads: Sequence[SeenHashes]
    cursor: int
    exhausted: bool
    checked: int


class JobMatcher:
    """A list change's added entries, compiled to match past uploads batch by batch.

    Args:
        entries: the added entries (read once), as the list store holds them: their
            digests already in canonical form (the store refuses others), so they are
            not normalised again here.
    """

    def __init__(self, entries: Iterable[HashEntry]) -> None:
        self._exact: dict[HashAlgorithm, dict[str, list[HashEntry]]] = {
            algorithm: {} for algorithm in CRYPTOGRAPHIC_ALGORITHMS
        }
        pdq_entries: list[HashEntry] = []
        pdq_codes: list[bytes] = []
        for entry in entries:
            for algorithm, value in entry.digests.items():
                if algorithm in self._exact:
                    self._exact[algorithm].setdefault(value, []).append(entry)
                elif algorithm is HashAlgorithm.PDQ:
                    pdq_entries.append(entry)
                    pdq_codes.append(bytes.fromhex(value))
        self._pdq_entries = pdq_entries
        self._pdq_index: PdqIndex | None = None
        if pdq_entries:
            self._pdq_index = PdqIndex.build(
                np.arange(len(pdq_entries), dtype=np.int64),
                np.frombuffer(b"".join(pdq_codes), dtype=np.uint8).reshape(-1, 32),
            )
        digests = sum(len(values) for values in self._exact.values())
        self._exact_count = digests
        self._lookup = not pdq_entries and digests <= MAX_LOOKUP_DIGESTS
        self._empty = not pdq_entries and digests == 0

    @property
    def is_empty(self) -> bool:
        """True when the entries hold nothing to match past uploads against."""
        return self._empty

    @property
    def looks_up(self) -> bool:
        """True when candidates are found by digest lookups rather than by a scan."""
        return self._lookup

    def next_batch(self, store: ServiceStore, cursor: int, batch_size: int) -> Batch:
        """The past uploads after `cursor` to compare next, at most about `batch_size`."""
        if self._empty:
            return Batch((), cursor, True, 0)
        if not self._lookup:
            if self._exact_count:
                page = store.seen_hashes_after(cursor, batch_size)
            else:  # PDQ entries only: uploads without a PDQ hash cannot match, skip them
                page = [SeenHashes(i, {}, pdq) for i, pdq in store.seen_pdq(cursor, batch_size)]
            if not page:
                return Batch((), cursor, True, 0)
            return Batch(page, page[-1].upload_id, len(page) < batch_size, len(page))
        found: dict[int, SeenHashes] = {}
        bound: int | None = None  # a full answer may have left out uploads after its last
        for algorithm, by_value in self._exact.items():
            values = list(by_value)
            for start in range(0, len(values), LOOKUP_BATCH):
                chunk = values[start : start + LOOKUP_BATCH]
                rows = store.seen_with_digests(algorithm, chunk, after_id=cursor, limit=batch_size)
                found.update((r.upload_id, SeenHashes(r.upload_id, r.digests, r.pdq)) for r in rows)
                if len(rows) >= batch_size:
                    last = rows[-1].upload_id
                    bound = last if bound is None else min(bound, last)
        uploads = [found[i] for i in sorted(found) if bound is None or i <= bound]
        if bound is None:
            end = uploads[-1].upload_id if uploads else cursor
            return Batch(uploads, end, True, len(uploads))
        return Batch(uploads, bound, False, len(uploads))

    def matches(
        self, hash_list: HashList, uploads: Sequence[SeenHashes], threshold: int
    ) -> Mapping[int, list[Match]]:
        """Each upload's matches against the entries, by upload id (none: left out).

        PDQ matches are those within `threshold`; the upload's PDQ quality is not known
        here (the caller adds it from the stored upload).
        """
        found: dict[int, list[Match]] = {}
        for upload in uploads if self._exact_count else ():
            for algorithm, by_value in self._exact.items():
                value = upload.digests.get(algorithm)
                for entry in by_value.get(value, []) if value else []:
                    found.setdefault(upload.upload_id, []).append(
                        Match.of_entry(hash_list, entry, algorithm)
                    )
        if self._pdq_index is not None:
            with_pdq = [u for u in uploads if u.pdq]
            if with_pdq:
                codes = np.frombuffer(
                    b"".join(bytes.fromhex(u.pdq or "") for u in with_pdq), dtype=np.uint8
                ).reshape(-1, 32)
                starts = np.arange(len(with_pdq) + 1, dtype=np.int64)
                hits = self._pdq_index.search_batch(codes, starts, threshold)
                for position, candidates in sorted(hits.items()):
                    upload = with_pdq[position]
                    for candidate in candidates:
                        found.setdefault(upload.upload_id, []).append(
                            Match.of_entry(
                                hash_list,
                                self._pdq_entries[candidate.row_id],
                                HashAlgorithm.PDQ,
                                distance=candidate.distance,
                                threshold=threshold,
                            )
                        )
        return found
