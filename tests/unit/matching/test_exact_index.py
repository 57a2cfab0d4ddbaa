from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import InvalidDigestError, StorageError
from safeguard.matching import exact_index
from safeguard.matching.contract import ExactIndex
from safeguard.matching.exact_index import ExactDigestIndex


def digest(algorithm: str, n: int) -> str:
    """A real digest of a tiny benign byte string (no listed content anywhere)."""
    return hashlib.new(algorithm, f"stand-in {n}".encode()).hexdigest()


@pytest.fixture
def index() -> ExactDigestIndex:
    built = ExactDigestIndex()
    built.build("md5", np.arange(1000, dtype=np.int64), [digest("md5", n) for n in range(1000)])
    built.build(
        HashAlgorithm.SHA256,
        np.arange(1000, dtype=np.int64),
        [digest("sha256", n) for n in range(1000)],
    )
    return built


def test_lookup_finds_hits_only_case_insensitively(index: ExactDigestIndex) -> None:
    hit = digest("md5", 42)
    found = index.lookup("MD5", [hit.upper(), digest("md5", 5000), digest("md5", 7)])
    assert found == {hit: [42], digest("md5", 7): [7]}
    assert index.lookup(HashAlgorithm.SHA256, [digest("sha256", 999)]) == {
        digest("sha256", 999): [999]
    }
    assert index.lookup("sha1", [digest("sha1", 1)]) == {}  # no table for sha1 yet
    assert len(index) == 2000
    assert isinstance(index, ExactIndex)


def test_shared_prefixes_and_shared_digests() -> None:
    built = ExactDigestIndex()
    same_prefix = ["ab" * 8 + f"{n:024x}" for n in range(5)]  # equal first 8 bytes
    built.build("sha1", np.array([1, 2, 3, 4, 5, 6]), [*same_prefix, same_prefix[2]])
    found = built.lookup("sha1", [same_prefix[2], same_prefix[4], "ab" * 20])
    assert found == {same_prefix[2]: [3, 6], same_prefix[4]: [5]}


def test_add_remove_and_compact(monkeypatch, index: ExactDigestIndex) -> None:
    monkeypatch.setattr(exact_index, "MIN_DELTA_BEFORE_COMPACT", 10**9)
    index.add("md5", np.array([5000, 5001]), [digest("md5", 5000), digest("md5", 42)])
    assert index.lookup("md5", [digest("md5", 42)]) == {digest("md5", 42): [42, 5001]}
    assert index.remove(np.array([42, 5000, 31337])) == 3  # md5 + sha256 of 42, md5 of 5000
    assert index.lookup("md5", [digest("md5", 42), digest("md5", 5000)]) == {
        digest("md5", 42): [5001]
    }
    assert index.lookup("sha256", [digest("sha256", 42)]) == {}
    assert len(index) == 2000 - 2 + 1
    index.compact()
    assert index.lookup("md5", [digest("md5", 42), digest("md5", 43)]) == {
        digest("md5", 42): [5001],
        digest("md5", 43): [43],
    }
    assert len(index) == 1999
    index.add("sha1", np.array([9]), [digest("sha1", 9)])  # a new algorithm via add
    assert index.lookup("sha1", [digest("sha1", 9)]) == {digest("sha1", 9): [9]}


def test_changes_compact_automatically(monkeypatch, index: ExactDigestIndex) -> None:
    monkeypatch.setattr(exact_index, "MIN_DELTA_BEFORE_COMPACT", 2)
    index.compact_fraction = 0.0
    index.add("md5", np.array([7000, 7001, 7002]), [digest("md5", n) for n in (7000, 7001, 7002)])
    table = index._tables[HashAlgorithm.MD5]
    assert table.delta_count == 0
    assert table.prefix.shape[0] == 1003


@pytest.mark.parametrize("mmap", [True, False])
def test_save_and_load(tmp_path: Path, index: ExactDigestIndex, mmap: bool) -> None:
    index.remove(np.array([3]))
    index.add("md5", np.array([4000]), [digest("md5", 4000)])
    index.save(tmp_path / "exact")
    loaded = ExactDigestIndex.load(tmp_path / "exact", mmap=mmap)
    assert len(loaded) == len(index)
    queries = [digest("md5", n) for n in (1, 3, 4000, 9999)]
    assert loaded.lookup("md5", queries) == index.lookup("md5", queries)
    loaded.remove(np.array([1]))
    loaded.save(tmp_path / "exact")  # over the folder it is mapped from
    assert ExactDigestIndex.load(tmp_path / "exact").lookup("md5", queries) == {
        digest("md5", 4000): [4000]
    }


def test_errors(tmp_path: Path, index: ExactDigestIndex) -> None:
    with pytest.raises(InvalidDigestError, match="position 1"):
        index.lookup("md5", [digest("md5", 1), "xyz"])
    with pytest.raises(InvalidDigestError):
        index.lookup("crc32", ["00"])
    with pytest.raises(InvalidDigestError):
        index.lookup("photodna", ["00"])
    with pytest.raises(ValueError, match="ids"):
        index.build("md5", np.arange(2), [digest("md5", 1)])
    with pytest.raises(StorageError):
        ExactDigestIndex.load(tmp_path)


@settings(max_examples=40, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 15)), max_size=40),
    removed=st.lists(st.integers(0, 30), max_size=5),
    queries=st.lists(st.integers(0, 20), max_size=10),
)
def test_property_matches_a_dict(pairs, removed, queries) -> None:
    built = ExactDigestIndex()
    half = len(pairs) // 2
    built.build(
        "md5",
        np.array([i for i, _ in pairs[:half]], dtype=np.int64),
        [digest("md5", d) for _, d in pairs[:half]],
    )
    built.add(
        "md5",
        np.array([i for i, _ in pairs[half:]], dtype=np.int64),
        [digest("md5", d) for _, d in pairs[half:]],
    )
    built.remove(np.array(removed, dtype=np.int64))
    expected: dict[str, set[int]] = {}
    for entry_id, d in pairs:
        if entry_id not in removed:
            expected.setdefault(digest("md5", d), set()).add(entry_id)
    wanted = [digest("md5", q) for q in queries]
    assert built.lookup("md5", wanted) == {
        key: sorted(ids) for key, ids in expected.items() if key in wanted
    }
