from __future__ import annotations

import pytest

from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.contracts.hash_list_store_contract import HashListStoreContract


class TestMemoryHashListStore(HashListStoreContract):
    @pytest.fixture
    def store(self) -> HashListStore:
        return MemoryHashListStore()
