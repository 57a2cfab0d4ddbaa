from __future__ import annotations

import pytest

from safeguard.storage.case_store import CaseStore
from safeguard.storage.memory_cases import MemoryCaseStore
from tests.contracts.case_store_contract import CaseStoreContract


class TestMemoryCaseStore(CaseStoreContract):
    @pytest.fixture
    def store(self) -> CaseStore:
        return MemoryCaseStore()
