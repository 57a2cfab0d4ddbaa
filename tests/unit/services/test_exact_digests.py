"""The exact-digest index keeper and the matched-entry cache behind `MatchService`."""

from __future__ import annotations

from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.services.exact_digests import ExactDigestKeeper, MatchedEntries
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.contracts.hash_list_store_contract import bad_list, digest_of, make_entry


def test_keeper_builds_catches_up_and_rebuilds_after_a_restore(tmp_path: Path) -> None:
    store = MemoryHashListStore()
    store.import_list(bad_list(), [make_entry(1), make_entry(2, pdq=False)])
    keeper = ExactDigestKeeper(store, tmp_path)
    assert keeper.lookup(HashAlgorithm.MD5, [digest_of("md5", 1)]) == {}  # before catch_up
    assert keeper.catch_up(store.current_revision()) is None  # built
    assert keeper.save()
    assert keeper.lookup(HashAlgorithm.SHA1, [digest_of("sha1", 2)])
    store.remove_entries("bad", ["e2"])
    store.add_entries("bad", [make_entry(3)])
    assert keeper.catch_up(store.current_revision()) == 4  # one row removed, 3 digests added
    assert keeper.lookup(HashAlgorithm.SHA1, [digest_of("sha1", 2)]) == {}
    assert keeper.lookup(HashAlgorithm.SHA256, [digest_of("sha256", 3)])
    # A second keeper loads the save and replays the log since it.
    again = ExactDigestKeeper(store, tmp_path)
    assert again.catch_up(store.current_revision()) == 4
    assert again.lookup(HashAlgorithm.SHA1, [digest_of("sha1", 2)]) == {}
    assert again.save()
    # A database behind the save (restored from a backup) is indexed again from its rows.
    restored = ExactDigestKeeper(store, tmp_path)
    assert restored.catch_up(1) is None
    assert restored.lookup(HashAlgorithm.SHA256, [digest_of("sha256", 3)]) == {}  # added at 3
    assert restored.lookup(HashAlgorithm.MD5, [digest_of("md5", 1)])


def test_matched_entries_fetch_misses_and_drop_the_least_recent() -> None:
    store = MemoryHashListStore()
    store.import_list(bad_list(), [make_entry(i) for i in range(4)])
    rows = sorted(store.entries_by_rows(list(range(1, 10))))
    lists = {"bad": store.get_list("bad")}
    cache = MatchedEntries(store, size=2)
    found = cache.get(rows[:2], lists)
    assert [entry.entry_id for _, entry in found.values()] == ["e0", "e1"]
    cache.get([rows[0]], lists)  # rows[0] is now the most recent
    cache.get([rows[2]], lists)  # evicts rows[1]
    store.remove_list("bad")  # gone from the store: only cached rows still come back
    assert sorted(cache.get(rows[:3], lists)) == [rows[0], rows[2]]
    assert cache.get(rows[:3], {}) == {}  # a list not known any more hides its entries
    cache.clear()
    assert cache.get(rows[:3], lists) == {}
