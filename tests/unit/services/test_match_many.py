"""`MatchService.match_many` gives, file for file, what `match_file_hashes` gives."""

from __future__ import annotations

import random

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.services.matching import MatchService
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.contracts.hash_list_store_contract import digest_of, make_entry


def _pdq(seed: int) -> str:
    return f"{random.Random(seed).getrandbits(256):064x}"


def _near(code: str, bits: int, seed: int) -> str:
    value = int(code, 16)
    for bit in random.Random(seed).sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def _store() -> MemoryHashListStore:
    store = MemoryHashListStore()
    bad = [make_entry(seed, pdq=False) for seed in range(1, 20)]
    bad += [HashEntry(f"p{seed}", {HashAlgorithm.PDQ: _pdq(seed)}) for seed in range(100, 130)]
    store.import_list(HashList("bad", ListKind.KNOWN_BAD, version="3"), bad)
    # The same content on a second list, and a known-good list sharing a digest.
    store.import_list(HashList("bad-2", ListKind.KNOWN_BAD), [make_entry(5, pdq=False)])
    store.import_list(HashList("good", ListKind.KNOWN_GOOD), [make_entry(7, pdq=False)])
    store.import_list(HashList("off", ListKind.KNOWN_BAD, enabled=False), [make_entry(8)])
    return store


def _queries() -> list[FileHashes]:
    queries: list[FileHashes] = []
    for seed in range(0, 24):
        digests = {
            HashAlgorithm.MD5: digest_of("md5", seed).upper(),
            HashAlgorithm.SHA1: digest_of("sha1", seed),
            HashAlgorithm.SHA256: digest_of("sha256", seed),
        }
        if seed % 3 == 0:
            digests.pop(HashAlgorithm.MD5)
        pdq_seed = 100 + seed
        pdq = _near(_pdq(pdq_seed), seed % 40, seed) if seed % 2 else None
        quality = 30 if seed % 5 == 0 else 90
        queries.append(FileHashes(f"f{seed}", 10, digests, pdq=pdq, pdq_quality=quality))
    # The same file twice, a file with no digests at all and one that could not be read.
    queries += [queries[5], FileHashes("nothing", 0), FileHashes("err", None, error="x")]
    return queries


def test_match_many_equals_match_file_hashes_one_by_one() -> None:
    service = MatchService(_store())
    queries = _queries()
    batched = service.match_many(queries)
    one_by_one = [service.match_file_hashes(fh) for fh in queries]
    assert batched == one_by_one
    assert sum(1 for found in batched if found) >= 15  # exact, perceptual and known-good hits
    assert {m.list_name for found in batched for m in found} == {"bad", "bad-2", "good"}
    assert any(m.algorithm is HashAlgorithm.PDQ for found in batched for m in found)


def test_match_many_of_nothing_is_nothing() -> None:
    assert MatchService(_store()).match_many([]) == []
