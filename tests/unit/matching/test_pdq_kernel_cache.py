"""The PDQ kernels are cached on disk where they can be, and still work where they cannot."""

from __future__ import annotations

import logging

import numba.core.caching
import numpy as np
import pytest
from numpy.typing import NDArray

from safeguard.matching import pdq_kernels


def _add_one(values: NDArray[np.int64]) -> NDArray[np.int64]:
    return values + 1


def test_kernels_are_cached_on_disk() -> None:
    assert pdq_kernels.mih_search._cache.__class__.__name__ == "FunctionCache"


def test_no_writable_cache_folder_means_compiling_in_memory(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # As on a read-only install whose user has no writable cache folder either.
    monkeypatch.setattr(numba.core.caching.CacheImpl, "_locator_classes", [])
    with caplog.at_level(logging.WARNING, logger=pdq_kernels.__name__):
        kernel = pdq_kernels._compiled(_add_one)
    assert "not cached on disk" in caplog.text
    assert kernel(np.arange(3)).tolist() == [1, 2, 3]
