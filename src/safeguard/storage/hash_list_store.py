"""The port for hash lists and their entries, with a change log that keeps PDQ indexes fresh."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from safeguard.domain.digests import HEX_LENGTHS, HashAlgorithm, normalise_digest
from safeguard.domain.hash_lists import HashEntry, HashList

PDQ_CODE_BYTES = 32
"""A PDQ hash as raw bytes: 256 bits, most significant hex digit first."""


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as the store holds it.

    Attributes:
        row_id: the store's own id for the entry, never reused; PDQ indexes key on it.
        hash_list: the list holding the entry, as it is now (enabled, threshold, version).
        entry: the entry itself.
    """

    row_id: int
    hash_list: HashList
    entry: HashEntry


@dataclass(frozen=True, slots=True)
class ReferenceList:
    """A list that is queried where it lies instead of being copied (NSRL RDSv3).

    Attributes:
        hash_list: the list's settings; `entry_count` is 0 since the rows are not counted.
        location: path of the reference database.
    """

    hash_list: HashList
    location: str


@dataclass(frozen=True, slots=True)
class PdqDelta:
    """How the stored PDQ hashes changed after a revision, as an index needs it.

    Apply `removed_ids` first, then the added rows: a row removed and another added in the
    same interval is then right, and removing an id the index never had does no harm.

    Attributes:
        added_ids: row ids of PDQ entries added after the revision and still present.
        added_codes: their PDQ hashes, `PDQ_CODE_BYTES` each, in the order of `added_ids`.
        removed_ids: row ids of PDQ entries removed after the revision.
        revision: the revision this delta brings an index up to.
    """

    added_ids: Sequence[int]
    added_codes: bytes | bytearray
    removed_ids: Sequence[int]
    revision: int

    @property
    def is_empty(self) -> bool:
        """True when nothing was added or removed."""
        return not self.added_ids and not self.removed_ids


@dataclass(frozen=True, slots=True)
class DigestRows:
    """Stored entries holding one cryptographic digest, as an exact index needs them.

    Attributes:
        ids: row ids, ascending.
        values: their digests in canonical hex, in the order of `ids`.
    """

    ids: Sequence[int]
    values: Sequence[str]


class HashListStore(Protocol):
    """Where hash lists and their entries live.

    Every write is one transaction and bumps the store's revision, so readers see a list
    either before or after a change, never half of it. Entries carry digests in canonical
    form (`normalise_digest`). Lookups of missing lists raise `NotFoundError`; list names
    are unique.
    """

    def store_identity(self) -> str:
        """A random id fixed when the store was created; tells saved indexes apart."""
        ...

    def import_list(self, hash_list: HashList, entries: Iterable[HashEntry]) -> HashList:
        """Create the list, or replace all entries of the list with this name, atomically.

        If iterating `entries` raises, the store is left as it was and the error propagates.
        Entries with the same `entry_id` collapse to the last one. On re-import, kind,
        source and version come from `hash_list`; `pdq_threshold` and `action` too unless
        they are None; `enabled` is kept from the stored list.

        Returns:
            The list as stored, with `imported_at` and `entry_count` filled in.
        """
        ...

    def register_reference_list(self, hash_list: HashList, location: str) -> HashList:
        """Record a list queried in place (NSRL), replacing any list with this name."""
        ...

    def get_list(self, name: str) -> HashList:
        """The list with this name."""
        ...

    def all_lists(self) -> list[HashList]:
        """Every list, reference lists included, by name."""
        ...

    def reference_lists(self) -> list[ReferenceList]:
        """The lists queried in place, with their locations, by name."""
        ...

    def update_list(
        self,
        name: str,
        *,
        enabled: bool | None = None,
        pdq_threshold: int | None = None,
        action: str | None = None,
    ) -> HashList:
        """Change the given settings (None leaves a setting as it is)."""
        ...

    def remove_list(self, name: str) -> None:
        """Delete the list and its entries."""
        ...

    def add_entries(self, name: str, entries: Iterable[HashEntry]) -> int:
        """Add entries to a stored list atomically; an existing `entry_id` is replaced.

        Returns:
            The number of entries written.
        """
        ...

    def remove_entries(self, name: str, entry_ids: Sequence[str]) -> int:
        """Remove entries by the list's ids; unknown ids are ignored.

        Returns:
            The number of entries removed.
        """
        ...

    def iter_entries(self, name: str) -> Iterator[HashEntry]:
        """Stream the list's entries in the order they were stored."""
        ...

    def entries_with_ids(self, name: str, entry_ids: Sequence[str]) -> list[HashEntry]:
        """The list's entries with these ids, in the order they were stored.

        Ids the list does not hold are left out. Costs in proportion to the ids, not to
        the list (a few entries added to a list of millions).
        """
        ...

    def find_exact(self, algorithm: HashAlgorithm, values: Sequence[str]) -> list[StoredEntry]:
        """Entries of every stored list with one of these digests (or equal PhotoDNA values).

        Reference lists are not searched here. Values are normalised first.

        Raises:
            InvalidDigestError: a value is malformed, or the algorithm is not cryptographic.
        """
        ...

    def entries_by_rows(self, row_ids: Sequence[int]) -> dict[int, StoredEntry]:
        """The entries with these row ids; ids no longer present are left out."""
        ...

    def current_revision(self) -> int:
        """The revision of the last committed write; 0 for an empty store."""
        ...

    def pdq_rows_since(self, revision: int) -> PdqDelta:
        """The PDQ changes after `revision` (0 gives every stored PDQ entry)."""
        ...

    def digest_rows_between(self, algorithm: HashAlgorithm, after: int, upto: int) -> DigestRows:
        """Entries still present, added in revisions ``after < r <= upto``, with this digest.

        With `removed_rows_between` this is the change log of an exact-digest index: read
        `current_revision` once, then ask both for the same interval.

        Raises:
            InvalidDigestError: the algorithm is not cryptographic.
        """
        ...

    def removed_rows_between(self, after: int, upto: int) -> Sequence[int]:
        """Row ids of entries (with any digest) removed in revisions ``after < r <= upto``.

        Removals made before the store kept this log for every entry (schema ``lists_0002``)
        are only listed for PDQ entries; an index built from the rows present is unaffected.
        """
        ...


def list_on_import(incoming: HashList, previous: HashList | None) -> HashList:
    """The list settings a (re-)import stores, by the rules of `HashListStore.import_list`.

    Stores share this so that every implementation keeps the same settings on re-import;
    `imported_at` and `entry_count` are left for the store to fill in.
    """
    if previous is None:
        return incoming
    return HashList(
        name=incoming.name,
        kind=incoming.kind,
        source=incoming.source,
        version=incoming.version,
        pdq_threshold=(
            incoming.pdq_threshold if incoming.pdq_threshold is not None else previous.pdq_threshold
        ),
        enabled=previous.enabled,
        action=incoming.action if incoming.action is not None else previous.action,
    )


_HEX_DIGITS = "0123456789abcdef"


def normalised_entry(entry: HashEntry) -> HashEntry:
    """The entry with every digest in canonical form (the same object when it already is).

    Raises:
        InvalidDigestError: a digest does not fit its algorithm.
    """
    # Readers already hand over canonical digests; checking is far cheaper than rebuilding.
    # `str.strip` with the hex digits leaves nothing exactly when every character is one:
    # a single C call per digest, several times cheaper than a regular expression.
    for algorithm, value in entry.digests.items():
        length = HEX_LENGTHS.get(algorithm)
        if length is None:  # PhotoDNA: kept verbatim, only stripped
            if not value or value != value.strip():
                break
        elif len(value) != length or value.strip(_HEX_DIGITS):
            break
    else:
        return entry
    digests = {algo: normalise_digest(algo, value) for algo, value in entry.digests.items()}
    return replace(entry, digests=digests)
