"""`MatchService`'s in-memory exact-digest index, entry cache and revision checks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashList, ListKind
from safeguard.services.matching import MatchService
from safeguard.storage.hash_list_store import DigestRows, StoredEntry
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.contracts.hash_list_store_contract import bad_list, digest_of, make_entry


class CountingStore(MemoryHashListStore):
    """The in-memory store, counting the calls a match makes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def find_exact(self, algorithm: HashAlgorithm, values: Sequence[str]) -> list[StoredEntry]:
        self._count("find_exact")
        return super().find_exact(algorithm, values)

    def entries_by_rows(self, row_ids: Sequence[int]) -> dict[int, StoredEntry]:
        self._count("entries_by_rows")
        return super().entries_by_rows(row_ids)

    def digest_rows_between(self, algorithm: HashAlgorithm, after: int, upto: int) -> DigestRows:
        self._count(f"digest_rows_between:{after}")
        return super().digest_rows_between(algorithm, after, upto)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


def md5(seed: int) -> dict[HashAlgorithm, str]:
    return {HashAlgorithm.MD5: digest_of("md5", seed)}


def test_exact_match_uses_the_index_and_caches_entries(store: CountingStore) -> None:
    store.import_list(bad_list(), [make_entry(1), make_entry(2)])
    service = MatchService(store)
    assert service.match_digests(md5(99)) == []  # unknown: no entry fetched at all
    assert store.calls.get("entries_by_rows", 0) == 0
    assert [m.entry_id for m in service.match_digests(md5(1))] == ["e1"]
    assert [m.entry_id for m in service.match_digests(md5(1))] == ["e1"]
    assert store.calls["entries_by_rows"] == 1  # the second match came from the cache
    assert "find_exact" not in store.calls


def test_exact_index_follows_changes(store: CountingStore) -> None:
    store.import_list(bad_list(), [make_entry(1), make_entry(2, pdq=False)])
    store.import_list(HashList("good", ListKind.KNOWN_GOOD), [make_entry(1, entry_id="g1")])
    service = MatchService(store)
    assert [m.list_name for m in service.match_digests(md5(1))] == ["bad", "good"]
    store.remove_entries("bad", ["e1", "e2"])
    store.add_entries("bad", [make_entry(3, pdq=False)])
    assert [m.list_name for m in service.match_digests(md5(1))] == ["good"]
    assert service.match_digests(md5(2)) == []
    assert [m.entry_id for m in service.match_digests(md5(3))] == ["e3"]
    store.update_list("good", enabled=False)
    assert service.match_digests(md5(1)) == []
    store.import_list(bad_list(), [make_entry(5)])  # a replace drops every old row
    assert service.match_digests(md5(3)) == []
    assert [m.entry_id for m in service.match_digests(md5(5))] == ["e5"]
    # Only the first refresh read every row; the later ones read the change log.
    assert store.calls["digest_rows_between:0"] == 3


def test_match_many_with_the_exact_index(store: CountingStore) -> None:
    from safeguard.domain.file_hashes import FileHashes

    store.import_list(bad_list(), [make_entry(1), make_entry(2)])
    service = MatchService(store)
    files = [
        FileHashes(f"f{seed}", 1, digests={HashAlgorithm.SHA256: digest_of("sha256", seed)})
        for seed in (2, 7, 1, 2)
    ]
    found = service.match_many(files)
    assert [[m.entry_id for m in matches] for matches in found] == [["e2"], [], ["e1"], ["e2"]]
    assert store.calls["entries_by_rows"] == 1


def test_exact_index_is_saved_and_loaded(store: CountingStore, tmp_path: Path) -> None:
    store.import_list(bad_list(), [make_entry(1)])
    MatchService(store, index_dir=tmp_path).refresh()
    assert list(tmp_path.glob("exact-*.json"))
    store.add_entries("bad", [make_entry(2)])
    store.calls.clear()
    second = MatchService(store, index_dir=tmp_path)
    assert [m.entry_id for m in second.match_digests(md5(2))] == ["e2"]
    assert [m.entry_id for m in second.match_digests(md5(1))] == ["e1"]
    assert "digest_rows_between:0" not in store.calls  # loaded, then caught up


def test_store_lookup_when_the_index_is_off(store: CountingStore) -> None:
    store.import_list(bad_list(), [make_entry(1)])
    service = MatchService(store, exact_in_memory=False)
    assert [m.entry_id for m in service.match_digests(md5(1))] == ["e1"]
    assert service.match_digests(md5(2)) == []
    assert store.calls["find_exact"] == 2
    assert not any(name.startswith("digest_rows") for name in store.calls)


def test_revision_check_interval_trusts_a_recent_check(store: CountingStore) -> None:
    store.import_list(bad_list(), [make_entry(1)])
    service = MatchService(store, revision_check_interval=3600)
    assert service.match_digests(md5(2)) == []
    store.add_entries("bad", [make_entry(2)])
    assert service.match_digests(md5(2)) == []  # checked less than an hour ago
    service.refresh()
    assert [m.entry_id for m in service.match_digests(md5(2))] == ["e2"]
    every_time = MatchService(store)
    store.add_entries("bad", [make_entry(3)])
    assert every_time.match_digests(md5(3))
