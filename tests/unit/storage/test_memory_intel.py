from __future__ import annotations

import pytest

from safeguard.storage.intel_store import IntelStore
from safeguard.storage.memory_intel import MemoryIntelStore
from tests.contracts.intel_store_contract import IntelStoreContract


class TestMemoryIntelStore(IntelStoreContract):
    @pytest.fixture
    def store(self) -> IntelStore:
        return MemoryIntelStore()
