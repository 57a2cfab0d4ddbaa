"""Reusable behaviour suite for every `PerceptualIndex`; subclass and provide `make_index`.

A subclass defines ``make_index(self, ids, codes) -> PerceptualIndex`` (build from
``int64[N]`` ids and ``uint8[N, 32]`` codes) and, for persistence, ``load_index(self, path)``.
Codes here are random bit patterns, not hashes of any image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from safeguard.matching.brute_force import brute_force_search
from safeguard.matching.contract import MatchCandidate, PerceptualIndex


def _flip(rng: np.random.Generator, code: NDArray[np.uint8], distance: int) -> NDArray[np.uint8]:
    bits = np.unpackbits(code)
    bits[rng.choice(256, size=distance, replace=False)] ^= 1
    return np.packbits(bits)


class PerceptualIndexContract:
    """Behaviour every perceptual index shares: exact, complete, and closest first."""

    size = 2000

    def make_index(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> PerceptualIndex:
        raise NotImplementedError

    def load_index(self, path: Path) -> PerceptualIndex:
        raise NotImplementedError

    def _data(self) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
        rng = np.random.default_rng(1234)
        codes = rng.integers(0, 256, size=(self.size, 32), dtype=np.uint8)
        return np.arange(self.size, dtype=np.int64) * 10 + 3, codes

    def test_finds_exactly_what_brute_force_finds(self) -> None:
        ids, codes = self._data()
        index = self.make_index(ids, codes)
        rng = np.random.default_rng(1)
        for distance in [0, 1, 15, 30, 31, 32, 33, 45]:
            query = _flip(rng, codes[distance], distance)
            rows, distances = brute_force_search(codes, query, 31)
            expected = sorted(
                MatchCandidate(int(d), int(ids[r])) for r, d in zip(rows, distances, strict=True)
            )
            assert index.search(query, 31) == expected
            assert (MatchCandidate(distance, int(ids[distance])) in expected) == (distance <= 31)

    def test_variants_give_one_best_candidate_per_id(self) -> None:
        ids, codes = self._data()
        index = self.make_index(ids, codes)
        rng = np.random.default_rng(2)
        variants = np.stack([_flip(rng, codes[7], 25), _flip(rng, codes[7], 3), codes[8]])
        found = index.search_variants(variants, 31)
        assert found[:2] == [MatchCandidate(0, int(ids[8]), 2), MatchCandidate(3, int(ids[7]), 1)]
        assert len({m.row_id for m in found}) == len(found)

    def test_add_and_remove_are_seen_by_the_next_search(self) -> None:
        ids, codes = self._data()
        index = self.make_index(ids, codes)
        assert index.remove(ids[:1]) == 1
        assert index.search(codes[0], 0) == []
        index.add(np.array([99999], dtype=np.int64), codes[:1])
        assert index.search(codes[0], 0) == [MatchCandidate(0, 99999)]
        assert len(index) == self.size

    def test_save_then_load_answers_the_same(self, tmp_path: Path) -> None:
        ids, codes = self._data()
        index = self.make_index(ids, codes)
        index.remove(ids[5:6])
        index.save(tmp_path / "index")
        loaded = self.load_index(tmp_path / "index")
        assert len(loaded) == len(index)
        for row in (4, 5, 6):
            assert loaded.search(codes[row], 31) == index.search(codes[row], 31)
