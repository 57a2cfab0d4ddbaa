from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from safeguard.domain.errors import InvalidDigestError, StorageError
from safeguard.matching import mih_layout, pdq_hits, pdq_index
from safeguard.matching.brute_force import brute_force_matches, brute_force_search
from safeguard.matching.contract import MatchCandidate, PerceptualIndex
from safeguard.matching.pdq_codes import codes_from_hex, hex_from_code
from safeguard.matching.pdq_index import PdqIndex
from tests.unit.matching.pdq_test_data import (
    flip_bits,
    planted_queries,
    random_codes,
    skewed_codes,
)

STRATEGIES = ["probe", "scan", "auto"]


def oracle(
    ids: NDArray[np.int64], codes: NDArray[np.uint8], query: NDArray[np.uint8], threshold: int
) -> list[MatchCandidate]:
    rows, distances = brute_force_search(codes, query, threshold)
    return sorted(MatchCandidate(int(d), int(ids[r])) for r, d in zip(rows, distances, strict=True))


def with_strategy(index: PdqIndex, strategy: str) -> PdqIndex:
    index.strategy = strategy  # type: ignore[assignment]
    return index


@pytest.fixture(scope="module")
def random_set() -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    rng = np.random.default_rng(7)
    codes = random_codes(rng, 6000)
    ids = rng.choice(10**9, size=6000, replace=False).astype(np.int64)  # sparse, not row numbers
    return ids, codes


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_planted_queries_match_brute_force(random_set, strategy: str) -> None:
    ids, codes = random_set
    index = with_strategy(PdqIndex.build(ids, codes), strategy)
    rng = np.random.default_rng(11)
    distances = list(range(32)) * 2 + list(range(32, 41))
    rows, queries = planted_queries(rng, codes, distances)
    for row, distance, query in zip(rows, distances, queries, strict=True):
        found = index.search(query, 31)
        assert found == oracle(ids, codes, query, 31)
        planted = MatchCandidate(distance, int(ids[row]))
        assert (planted in found) == (distance <= 31)


@pytest.mark.parametrize("threshold", [0, 1, 10, 11, 12, 24, 31, 32, 48, 64])
@pytest.mark.parametrize("strategy", ["probe", "auto"])
def test_other_thresholds_match_brute_force(random_set, threshold: int, strategy: str) -> None:
    ids, codes = random_set
    index = with_strategy(PdqIndex.build(ids, codes), strategy)
    rng = np.random.default_rng(threshold)
    distances = [min(256, max(0, threshold + k)) for k in (-3, -1, 0, 1, 2, 6)]
    _, queries = planted_queries(rng, codes, distances)
    for query in queries:
        assert index.search(query, threshold) == oracle(ids, codes, query, threshold)


@pytest.mark.parametrize("strategy", ["probe", "auto"])
def test_skewed_data_with_a_pathological_bucket_matches_brute_force(strategy: str) -> None:
    rng = np.random.default_rng(3)
    codes = skewed_codes(rng, 8000)
    ids = np.arange(8000, dtype=np.int64) + 100
    index = with_strategy(PdqIndex.build(ids, codes), strategy)
    _, queries = planted_queries(rng, codes, [0, 5, 12, 20, 28, 31, 33, 40] * 4)
    flat_query = flip_bits(rng, codes[np.flatnonzero((codes[:, 2:] == 0).all(axis=1))[0]], 9)
    for query in [*queries, flat_query]:
        assert index.search(query, 31) == oracle(ids, codes, query, 31)
    # every one of the ~800 identical flat codes is a match, once each
    assert len(index.search(flat_query, 31)) >= 800


def test_search_variants_reports_best_distance_and_variant_per_id(random_set) -> None:
    ids, codes = random_set
    index = with_strategy(PdqIndex.build(ids, codes), "probe")
    rng = np.random.default_rng(5)
    target = codes[17]
    # eight variants: mostly unrelated, two near the same entry at different distances
    variants = random_codes(rng, 8)
    variants[2] = flip_bits(rng, target, 20)
    variants[6] = flip_bits(rng, target, 4)
    variants[7] = flip_bits(rng, codes[99], 30)
    found = index.search_variants(variants, 31)
    expected = brute_force_matches(ids, codes, variants, 31)
    assert {m.row_id: (m.distance, m.variant) for m in found} == expected
    assert found[0] == MatchCandidate(4, int(ids[17]), 6)
    assert [m.distance for m in found] == sorted(m.distance for m in found)


def test_variant_ties_go_to_the_lowest_variant(random_set) -> None:
    ids, codes = random_set
    index = PdqIndex.build(ids, codes)
    query = codes[5]
    found = index.search_variants(np.stack([codes[9], query, query]), 31)
    assert MatchCandidate(0, int(ids[5]), 1) in found


def test_add_remove_and_compact_match_brute_force_over_the_live_set(monkeypatch) -> None:
    monkeypatch.setattr(pdq_index, "MIN_DELTA_BEFORE_COMPACT", 10**9)
    rng = np.random.default_rng(21)
    codes = random_codes(rng, 3000)
    ids = np.arange(3000, dtype=np.int64)
    index = with_strategy(PdqIndex.build(ids, codes), "probe")
    live = dict(zip(ids.tolist(), codes, strict=True))

    assert index.remove(np.array([5, 6, 7, 123456])) == 3
    for gone in (5, 6, 7):
        del live[gone]
    new_codes = np.stack([flip_bits(rng, codes[i], 3) for i in range(10, 20)])
    new_ids = np.arange(5000, 5010, dtype=np.int64)
    index.add(new_ids, new_codes)
    live.update(zip(new_ids.tolist(), new_codes, strict=True))
    index.add(np.array([8], dtype=np.int64), codes[2000:2001])  # replaces id 8
    live[8] = codes[2000]
    assert index.remove(np.array([5001])) == 1  # removal from the delta
    del live[5001]
    assert len(index) == len(live)
    assert index.pending_changes > 0

    def check() -> None:
        live_ids = np.array(list(live), dtype=np.int64)
        live_codes = np.stack(list(live.values()))
        for probe in [codes[8], codes[5], codes[12], codes[2000], *new_codes]:
            query = flip_bits(rng, probe, 7)
            assert index.search(query, 31) == oracle(live_ids, live_codes, query, 31)

    check()
    index.compact()
    assert index.pending_changes == 0
    assert len(index) == len(live)
    assert index.strategy == "probe"
    check()


def test_changes_past_the_fraction_compact_automatically(monkeypatch) -> None:
    monkeypatch.setattr(pdq_index, "MIN_DELTA_BEFORE_COMPACT", 4)
    rng = np.random.default_rng(2)
    index = PdqIndex.build(np.arange(100, dtype=np.int64), random_codes(rng, 100))
    index.add(np.arange(200, 204, dtype=np.int64), random_codes(rng, 4))
    assert index.pending_changes == 4
    index.add(np.array([300], dtype=np.int64), random_codes(rng, 1))
    assert index.pending_changes == 0
    assert len(index) == 105


@pytest.mark.parametrize("mmap", [True, False])
def test_save_and_load_give_the_same_answers(tmp_path: Path, random_set, mmap: bool) -> None:
    ids, codes = random_set
    index = PdqIndex.build(ids, codes)
    index.remove(ids[:3])
    index.add(np.array([-1, 2**40], dtype=np.int64), codes[100:102])  # ids outside uint32
    index.save(tmp_path / "pdq")
    loaded = with_strategy(PdqIndex.load(tmp_path / "pdq", mmap=mmap), "probe")
    assert len(loaded) == len(index)
    assert not list(tmp_path.glob(".*"))  # no staging folders left behind
    rng = np.random.default_rng(9)
    for row in [0, 1, 2, 100, 101, 500, 4000]:
        query = flip_bits(rng, codes[row], 6)
        assert loaded.search(query, 31) == index.search(query, 31)
    # a loaded (even memory-mapped) index can change, and be saved over its own folder
    loaded.add(np.array([777], dtype=np.int64), codes[:1])
    loaded.save(tmp_path / "pdq")
    again = PdqIndex.load(tmp_path / "pdq")
    assert MatchCandidate(0, 777) in again.search(codes[0], 0)
    assert len(again) == len(index) + 1


def test_load_rejects_other_formats_and_broken_folders(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        PdqIndex.load(tmp_path)
    index = PdqIndex.build(
        np.arange(10, dtype=np.int64), random_codes(np.random.default_rng(0), 10)
    )
    index.save(tmp_path / "pdq")
    manifest = tmp_path / "pdq" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 99'))
    with pytest.raises(StorageError, match="version"):
        PdqIndex.load(tmp_path / "pdq")
    index.save(tmp_path / "pdq")
    (tmp_path / "pdq" / "rows.npy").unlink()
    with pytest.raises(StorageError):
        PdqIndex.load(tmp_path / "pdq")


def test_empty_index_and_argument_checks() -> None:
    index = PdqIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
    assert len(index) == 0
    assert index.search(np.zeros(32, np.uint8), 31) == []
    index.add(np.array([1], dtype=np.int64), np.zeros((1, 32), np.uint8))
    assert index.search(np.zeros(32, np.uint8), 0) == [MatchCandidate(0, 1)]
    with pytest.raises(ValueError, match="threshold"):
        index.search(np.zeros(32, np.uint8), 257)
    with pytest.raises(ValueError, match="shape"):
        index.search(np.zeros(31, np.uint8), 31)
    with pytest.raises(ValueError, match="ids"):
        PdqIndex.build(np.zeros(2, np.int64), np.zeros((3, 32), np.uint8))
    assert isinstance(index, PerceptualIndex)


def test_default_layout_fits_256_bits_and_the_memory_budget() -> None:
    for count in (1, 1000, 10**6, 10**7, 10**8):
        widths = mih_layout.default_chunk_widths(count)
        assert len(widths) == 12
        assert sum(widths) <= 256
        assert max(widths) <= mih_layout.MAX_CHUNK_BITS
    offsets_bytes = sum(((1 << w) + 1) * 4 for w in mih_layout.default_chunk_widths(10**7))
    assert offsets_bytes < 160e6


def test_hex_round_trip_uses_bytes_fromhex_order() -> None:
    text = "f" + "0" * 62 + "1"
    code = codes_from_hex([text.upper()])[0]
    assert code.tobytes() == bytes.fromhex(text)
    assert hex_from_code(code) == text
    with pytest.raises(InvalidDigestError, match="position 1"):
        codes_from_hex([text, text[:-1]])
    with pytest.raises(InvalidDigestError):
        codes_from_hex([text + "0"])
    with pytest.raises(InvalidDigestError):
        codes_from_hex(["g" * 64])


code_strategy = st.lists(
    st.sampled_from([0x00, 0x01, 0x0F, 0xF0, 0xFF, 0x55]), min_size=32, max_size=32
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(code_strategy, min_size=0, max_size=40),
    query=code_strategy,
    threshold=st.integers(0, 80),
    strategy=st.sampled_from(STRATEGIES),
)
def test_property_small_sets_match_brute_force(rows, query, threshold, strategy) -> None:
    codes = np.array(rows, dtype=np.uint8).reshape(-1, 32)
    ids = np.arange(codes.shape[0], dtype=np.int64) * 7
    index = with_strategy(PdqIndex.build(ids, codes), strategy)
    probe = np.array(query, dtype=np.uint8)
    assert index.search(probe, threshold) == oracle(ids, codes, probe, threshold)


def test_save_refuses_to_replace_a_folder_that_is_not_an_index(tmp_path: Path) -> None:
    precious = tmp_path / "evidence"
    precious.mkdir()
    (precious / "notes.txt").write_text("not an index")
    index = PdqIndex.build(np.arange(3, dtype=np.int64), np.zeros((3, 32), np.uint8))
    with pytest.raises(StorageError, match="not a saved index"):
        index.save(precious)
    assert (precious / "notes.txt").read_text() == "not an index"
    assert not list(tmp_path.glob(".*"))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_search_batch_equals_one_search_variants_per_query(random_set, strategy: str) -> None:
    ids, codes = random_set
    index = with_strategy(PdqIndex.build(ids, codes), strategy)
    index.add(
        np.array([7, 8], np.int64),
        np.stack([flip_bits(np.random.default_rng(2), codes[k], 3) for k in (0, 1)]),
    )
    rng = np.random.default_rng(23)
    _, planted = planted_queries(rng, codes, [0, 3, 12, 25, 31, 32, 40] * 30)
    # queries of 1..8 variants (dihedral hashes, recovered regions), some with no hit at all
    sizes = rng.integers(1, 9, size=60)
    rows = np.concatenate([planted, random_codes(rng, int(sizes.sum()))])[
        rng.permutation(planted.shape[0] + int(sizes.sum()))
    ][: int(sizes.sum())]
    starts = np.zeros(sizes.shape[0] + 1, np.int64)
    np.cumsum(sizes, out=starts[1:])
    found = index.search_batch(rows, starts, 31)
    for q in range(sizes.shape[0]):
        expected = index.search_variants(rows[starts[q] : starts[q + 1]], 31)
        assert found.get(q, []) == expected
    assert index.search_batch(rows[:0], np.zeros(1, np.int64), 31) == {}
    with pytest.raises(ValueError, match="starts"):
        index.search_batch(rows, np.array([0, 3], np.int64), 31)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_search_batch_split_over_threads_gives_the_same_answers(random_set, strategy) -> None:
    ids, codes = random_set
    index = with_strategy(PdqIndex.build(ids, codes), strategy)
    index.add(np.array([5], np.int64), flip_bits(np.random.default_rng(3), codes[9], 2)[None])
    rng = np.random.default_rng(29)
    _, planted = planted_queries(rng, codes, list(range(0, 40)) * 5)
    rows = np.concatenate([planted, random_codes(rng, 100)])
    starts = np.arange(0, rows.shape[0] + 1, 2, dtype=np.int64)  # two variants per query
    assert rows.shape[0] // pdq_hits.MIN_ROWS_PER_THREAD >= 3
    index.search_threads = 1
    alone = index.search_batch(rows, starts, 31)
    index.search_threads = 3
    assert index.search_batch(rows, starts, 31) == alone
    assert sum(len(found) for found in alone.values()) >= 150  # 160 planted within 31
    assert pdq_hits.usable_cpus() >= 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_searches_with_threads_of_its_own(random_set) -> None:
    ids, codes = random_set
    index = PdqIndex.build(ids, codes)
    rows = codes[:200]
    starts = np.arange(rows.shape[0] + 1, dtype=np.int64)
    index.search_threads = 2
    expected = index.search_batch(rows, starts, 31)  # the parent's pool now has threads
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        found = pool.apply_async(_search_in_child, (index, rows, starts)).get(timeout=60)
    assert found == expected


def _search_in_child(
    index: PdqIndex, rows: NDArray[np.uint8], starts: NDArray[np.int64]
) -> dict[int, list[MatchCandidate]]:
    return index.search_batch(rows, starts, 31)
