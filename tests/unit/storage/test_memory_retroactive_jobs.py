from __future__ import annotations

import pytest

from safeguard.storage.memory_retroactive_jobs import MemoryRetroactiveJobStore
from safeguard.storage.retroactive_job_store import RetroactiveJobStore
from tests.contracts.retroactive_job_store_contract import RetroactiveJobStoreContract


class TestMemoryRetroactiveJobStore(RetroactiveJobStoreContract):
    @pytest.fixture
    def jobs(self) -> RetroactiveJobStore:
        return MemoryRetroactiveJobStore()
