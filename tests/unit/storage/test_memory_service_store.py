from __future__ import annotations

import pytest

from safeguard.storage.memory_service import MemoryServiceStore
from safeguard.storage.service_store import ServiceStore
from tests.contracts.service_store_contract import ServiceStoreContract


class TestMemoryServiceStore(ServiceStoreContract):
    @pytest.fixture
    def store(self) -> ServiceStore:
        return MemoryServiceStore()
