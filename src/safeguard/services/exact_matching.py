"""`MatchService`'s exact side for one batch: stored digests, reference lists, PhotoDNA.

`exact_hits` looks a batch's MD5, SHA-1 and SHA-256 digests up once per algorithm, in the
in-memory index (`safeguard.services.exact_digests.ExactDigestKeeper`) or else in the
store, and in each enabled reference list where it lies (`ReferenceLists`, such as an NSRL
database); PhotoDNA values are looked up in the store by equal value (`photodna_hits`).
Stored hits come back as row ids, for the caller to fetch with the PDQ hits in one go;
reference-list hits carry their entries and become matches at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm, photodna_spellings
from safeguard.domain.errors import SafeguardError
from safeguard.domain.hash_lists import HashEntry
from safeguard.domain.matches import Match
from safeguard.services.exact_digests import ExactDigestKeeper, MatchedEntries
from safeguard.services.match_queries import MatchQuery
from safeguard.storage.hash_list_store import HashListStore, ReferenceList

logger = logging.getLogger(__name__)

_EXACT = frozenset(CRYPTOGRAPHIC_ALGORITHMS)

ExactHit = tuple[int, int, HashAlgorithm]
"""``(query position, row id, algorithm)`` of one hit in the stored lists."""


class ReferenceLookup(Protocol):
    """A list queried where it lies, such as `safeguard.list_formats.nsrl.NsrlDatabase`."""

    def lookup(self, algorithm: HashAlgorithm, values: Sequence[str]) -> dict[str, HashEntry]:
        """Entries for the values found, keyed by the canonical value."""
        ...


ReferenceOpener = Callable[[str], ReferenceLookup]
"""Opens a reference list from its stored location."""


def open_nsrl(location: str) -> ReferenceLookup:
    """The NSRL RDSv3 database at `location`, opened read-only (`NsrlDatabase`)."""
    from safeguard.list_formats.nsrl import NsrlDatabase

    return NsrlDatabase(Path(location))


class ReferenceLists:
    """The store's reference lists, each opened on first use and kept open; not thread-safe.

    Args:
        open_reference: opens a reference list by location.
    """

    def __init__(self, open_reference: ReferenceOpener) -> None:
        self._open_reference = open_reference
        self._references: list[ReferenceList] = []
        self._opened: dict[str, ReferenceLookup] = {}

    def replace(self, references: list[ReferenceList]) -> None:
        """Search `references` from now on; lists no longer among them are closed."""
        self._references = references
        locations = {reference.location for reference in self._references}
        for location in [loc for loc in self._opened if loc not in locations]:
            close = getattr(self._opened.pop(location), "close", None)
            if close is not None:
                close()

    def add_matches(
        self,
        algorithm: HashAlgorithm,
        asking: Mapping[str, list[int]],
        found: list[list[Match]],
    ) -> None:
        """Append to ``found[position]`` a `Match` for each asked value an enabled list holds.

        Args:
            algorithm: the algorithm of the values.
            asking: canonical values, each with the positions of the queries asking it.
            found: matches by query position.

        A list that cannot be opened or searched is logged and skipped, never raised.
        """
        for reference in self._references:
            if not reference.hash_list.enabled:
                continue
            reference_hits = self._hits(reference, algorithm, list(asking))
            for value, entry in reference_hits.items():
                match = Match.of_entry(reference.hash_list, entry, algorithm)
                for position in asking.get(value, ()):
                    found[position].append(match)

    def _hits(
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


def exact_hits(
    queries: Sequence[MatchQuery],
    found: list[list[Match]],
    *,
    keeper: ExactDigestKeeper | None,
    store: HashListStore,
    entries: MatchedEntries,
    references: ReferenceLists,
) -> list[ExactHit]:
    """Match exact digests; reference-list matches go to `found` at once.

    Each algorithm is looked up once for the whole batch: in `keeper` when there is one,
    else in `store` (whose entries are then remembered in `entries`). PhotoDNA values are
    matched by `photodna_hits`.

    Returns:
        ``(query position, row id, algorithm)`` of each hit in the stored lists, for the
        caller to fetch with the PDQ hits in one go.
    """
    hits: list[ExactHit] = []
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
        if keeper is not None:
            for value, row_ids in keeper.lookup(algorithm, list(asking)).items():
                for position in asking.get(value, ()):
                    hits.extend((position, row_id, algorithm) for row_id in row_ids)
        else:
            for stored in store.find_exact(algorithm, list(asking)):
                entries.remember(stored.row_id, stored.hash_list.name, stored.entry)
                for position in asking.get(stored.entry.digests[algorithm], ()):
                    hits.append((position, stored.row_id, algorithm))
        references.add_matches(algorithm, asking, found)
    hits.extend(photodna_hits(queries, store, entries))
    return hits


def photodna_hits(
    queries: Sequence[MatchQuery], store: HashListStore, entries: MatchedEntries
) -> list[ExactHit]:
    """Entries whose PhotoDNA value equals a query's (in any of its spellings).

    Only equality: distance matching of PhotoDNA needs Microsoft's licensed algorithm. The
    entries found are remembered in `entries`; a query gets each row at most once.
    """
    asking: dict[str, list[int]] = {}
    for position, query in enumerate(queries):
        value = query.digests.get(HashAlgorithm.PHOTODNA)
        if value:
            for spelling in photodna_spellings(value):
                asking.setdefault(spelling, []).append(position)
    if not asking:
        return []
    hits: list[ExactHit] = []
    for stored in store.find_exact(HashAlgorithm.PHOTODNA, list(asking)):
        entries.remember(stored.row_id, stored.hash_list.name, stored.entry)
        value = stored.entry.digests[HashAlgorithm.PHOTODNA]
        for position in dict.fromkeys(asking.get(value, ())):
            hits.append((position, stored.row_id, HashAlgorithm.PHOTODNA))
    return hits
