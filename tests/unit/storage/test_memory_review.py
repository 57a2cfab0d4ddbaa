from __future__ import annotations

import pytest

from safeguard.storage.memory_review import MemoryReviewStore
from safeguard.storage.review_store import ReviewStore
from tests.contracts.review_store_contract import ReviewStoreContract


class TestMemoryReviewStore(ReviewStoreContract):
    @pytest.fixture
    def store(self) -> ReviewStore:
        return MemoryReviewStore()

    @pytest.fixture
    def ids(self) -> tuple[int, int, int]:
        return (1, 1, 2)
