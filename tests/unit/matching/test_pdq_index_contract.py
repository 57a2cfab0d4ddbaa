from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from safeguard.matching.contract import PerceptualIndex
from safeguard.matching.pdq_index import PdqIndex
from tests.contracts.perceptual_index_contract import PerceptualIndexContract


class TestPdqIndexProbing(PerceptualIndexContract):
    def make_index(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> PerceptualIndex:
        index = PdqIndex.build(ids, codes)
        index.strategy = "probe"
        return index

    def load_index(self, path: Path) -> PerceptualIndex:
        return PdqIndex.load(path)


class TestPdqIndexAuto(PerceptualIndexContract):
    def make_index(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> PerceptualIndex:
        return PdqIndex.build(ids, codes)

    def load_index(self, path: Path) -> PerceptualIndex:
        return PdqIndex.load(path, mmap=False)
