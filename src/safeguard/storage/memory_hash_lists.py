"""An in-memory `HashListStore` for unit tests and throwaway runs; same contract as the SQL one."""

from __future__ import annotations

import threading
import uuid
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from safeguard.domain.digests import HashAlgorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError, NotFoundError, StorageError
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.storage.hash_list_store import (
    DigestRows,
    PdqDelta,
    ReferenceList,
    StoredEntry,
    list_on_import,
    normalised_entry,
)


@dataclass(slots=True)
class _Row:
    list_name: str
    entry: HashEntry
    added_revision: int


class MemoryHashListStore:
    """Dictionaries behind a lock; nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._identity = uuid.uuid4().hex
        self._lists: dict[str, HashList] = {}
        self._locations: dict[str, str] = {}
        self._rows: dict[int, _Row] = {}
        # list name -> entry_id -> row id, in insertion order
        self._by_list: dict[str, dict[str, int]] = {}
        self._next_row = 1
        self._revision = 0
        self._removals: list[tuple[int, int]] = []  # (revision, row id) of removed PDQ rows
        self._other_removals: list[tuple[int, int]] = []  # the same for the other rows

    def store_identity(self) -> str:
        """A random id fixed when the store was created."""
        return self._identity

    # --- writes -----------------------------------------------------------------------

    def _drop_rows(self, row_ids: Iterable[int], revision: int) -> None:
        for row_id in list(row_ids):
            row = self._rows.pop(row_id)
            if row.entry.digests.get(HashAlgorithm.PDQ):
                self._removals.append((revision, row_id))
            else:
                self._other_removals.append((revision, row_id))

    def _insert(self, name: str, entries: Iterable[HashEntry], revision: int) -> int:
        ids = self._by_list.setdefault(name, {})
        written = 0
        for entry in entries:
            old = ids.pop(entry.entry_id, None)
            if old is not None:
                self._drop_rows([old], revision)
            row_id = self._next_row
            self._next_row += 1
            self._rows[row_id] = _Row(name, entry, revision)
            ids[entry.entry_id] = row_id
            written += 1
        return written

    def import_list(self, hash_list: HashList, entries: Iterable[HashEntry]) -> HashList:
        """Create or replace a list atomically (see `HashListStore.import_list`)."""
        # Materialise first: a reader failing half-way must leave the store untouched.
        staged = [normalised_entry(entry) for entry in entries]
        with self._lock:
            previous = self._lists.get(hash_list.name)
            self._revision += 1
            if previous is not None:
                # By difference, as the SQL store does: an unchanged entry keeps its row.
                incoming = {entry.entry_id: entry for entry in staged}
                old = self._by_list.pop(hash_list.name, {})
                kept = {
                    entry_id: row_id
                    for entry_id, row_id in old.items()
                    if incoming.get(entry_id) == self._rows[row_id].entry
                }
                kept_rows = set(kept.values())
                self._drop_rows([r for r in old.values() if r not in kept_rows], self._revision)
                self._by_list[hash_list.name] = kept
                self._locations.pop(hash_list.name, None)
                staged = [entry for entry in incoming.values() if entry.entry_id not in kept]
            self._insert(hash_list.name, staged, self._revision)
            stored = replace(
                list_on_import(hash_list, previous),
                imported_at=datetime.now(UTC),
                entry_count=len(self._by_list[hash_list.name]),
            )
            self._lists[hash_list.name] = stored
            return stored

    def register_reference_list(self, hash_list: HashList, location: str) -> HashList:
        """Record a list queried in place, replacing any list with this name."""
        with self._lock:
            self._revision += 1
            self._drop_rows(self._by_list.pop(hash_list.name, {}).values(), self._revision)
            stored = replace(hash_list, imported_at=datetime.now(UTC), entry_count=0)
            self._lists[hash_list.name] = stored
            self._locations[hash_list.name] = location
            return stored

    def update_list(
        self,
        name: str,
        *,
        enabled: bool | None = None,
        pdq_threshold: int | None = None,
        action: str | None = None,
    ) -> HashList:
        """Change the given settings (None leaves a setting as it is)."""
        with self._lock:
            current = self._get(name)
            changes: dict[str, object] = {}
            if enabled is not None:
                changes["enabled"] = enabled
            if pdq_threshold is not None:
                changes["pdq_threshold"] = pdq_threshold
            if action is not None:
                changes["action"] = action
            updated = replace(current, **changes)  # type: ignore[arg-type]
            self._lists[name] = updated
            self._revision += 1
            return updated

    def remove_list(self, name: str) -> None:
        """Delete the list and its entries."""
        with self._lock:
            self._get(name)
            self._revision += 1
            self._drop_rows(self._by_list.pop(name, {}).values(), self._revision)
            del self._lists[name]
            self._locations.pop(name, None)

    def add_entries(self, name: str, entries: Iterable[HashEntry]) -> int:
        """Add entries atomically; an existing `entry_id` is replaced."""
        staged = [normalised_entry(entry) for entry in entries]
        with self._lock:
            current = self._stored_list(name)
            self._revision += 1
            written = self._insert(name, staged, self._revision)
            self._lists[name] = replace(current, entry_count=len(self._by_list[name]))
            return written

    def remove_entries(self, name: str, entry_ids: Sequence[str]) -> int:
        """Remove entries by the list's ids; unknown ids are ignored."""
        with self._lock:
            current = self._stored_list(name)
            ids = self._by_list.setdefault(name, {})
            self._revision += 1
            gone = [ids.pop(entry_id) for entry_id in dict.fromkeys(entry_ids) if entry_id in ids]
            self._drop_rows(gone, self._revision)
            self._lists[name] = replace(current, entry_count=len(ids))
            return len(gone)

    # --- reads ------------------------------------------------------------------------

    def _get(self, name: str) -> HashList:
        try:
            return self._lists[name]
        except KeyError:
            raise NotFoundError(f"no hash list named {name!r}") from None

    def _stored_list(self, name: str) -> HashList:
        current = self._get(name)
        if name in self._locations:
            raise StorageError(f"{name!r} is a reference list queried in place; it has no rows")
        return current

    def get_list(self, name: str) -> HashList:
        """The list with this name."""
        with self._lock:
            return self._get(name)

    def all_lists(self) -> list[HashList]:
        """Every list, by name."""
        with self._lock:
            return [self._lists[name] for name in sorted(self._lists)]

    def reference_lists(self) -> list[ReferenceList]:
        """The lists queried in place, by name."""
        with self._lock:
            return [
                ReferenceList(self._lists[name], self._locations[name])
                for name in sorted(self._locations)
            ]

    def iter_entries(self, name: str) -> Iterator[HashEntry]:
        """The list's entries in the order they were stored (a snapshot)."""
        with self._lock:
            self._get(name)
            rows = sorted(self._by_list.get(name, {}).values())
            entries = [self._rows[row_id].entry for row_id in rows]
        return iter(entries)

    def entries_with_ids(self, name: str, entry_ids: Sequence[str]) -> list[HashEntry]:
        """The list's entries with these ids, in the order they were stored."""
        with self._lock:
            self._get(name)
            by_id = self._by_list.get(name, {})
            rows = sorted(by_id[i] for i in set(entry_ids) if i in by_id)
            return [self._rows[row_id].entry for row_id in rows]

    def find_exact(self, algorithm: HashAlgorithm, values: Sequence[str]) -> list[StoredEntry]:
        """Entries of every stored list with one of these digests or PhotoDNA values (equal)."""
        if not algorithm.is_cryptographic and algorithm is not HashAlgorithm.PHOTODNA:
            raise InvalidDigestError(f"{algorithm.value} is not an exact-match digest")
        wanted = {normalise_digest(algorithm, value) for value in values}
        with self._lock:
            return [
                StoredEntry(row_id, self._lists[row.list_name], row.entry)
                for row_id, row in sorted(self._rows.items())
                if row.entry.digests.get(algorithm) in wanted
            ]

    def entries_by_rows(self, row_ids: Sequence[int]) -> dict[int, StoredEntry]:
        """The entries with these row ids; ids no longer present are left out."""
        with self._lock:
            found: dict[int, StoredEntry] = {}
            for row_id in row_ids:
                row = self._rows.get(row_id)
                if row is not None:
                    found[row_id] = StoredEntry(row_id, self._lists[row.list_name], row.entry)
            return found

    def current_revision(self) -> int:
        """The revision of the last write."""
        with self._lock:
            return self._revision

    def pdq_rows_since(self, revision: int) -> PdqDelta:
        """The PDQ changes after `revision`."""
        with self._lock:
            added_ids = array("q")
            codes = bytearray()
            for row_id, row in sorted(self._rows.items()):
                pdq = row.entry.digests.get(HashAlgorithm.PDQ)
                if pdq and row.added_revision > revision:
                    added_ids.append(row_id)
                    codes += bytes.fromhex(pdq)
            removed = array("q", sorted({r for rev, r in self._removals if rev > revision}))
            return PdqDelta(added_ids, bytes(codes), removed, self._revision)

    def digest_rows_between(self, algorithm: HashAlgorithm, after: int, upto: int) -> DigestRows:
        """Entries still present, added in revisions ``after < r <= upto``, with this digest."""
        if not algorithm.is_cryptographic:
            raise InvalidDigestError(f"{algorithm.value} is not an exact-match digest")
        with self._lock:
            ids = array("q")
            values: list[str] = []
            for row_id, row in sorted(self._rows.items()):
                value = row.entry.digests.get(algorithm)
                if value and after < row.added_revision <= upto:
                    ids.append(row_id)
                    values.append(value)
            return DigestRows(ids, values)

    def removed_rows_between(self, after: int, upto: int) -> Sequence[int]:
        """Row ids of entries (with any digest) removed in revisions ``after < r <= upto``."""
        with self._lock:
            logged = (*self._removals, *self._other_removals)
            return array("q", sorted({row for rev, row in logged if after < rev <= upto}))
