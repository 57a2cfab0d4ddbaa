from __future__ import annotations

import pytest

from safeguard.storage.memory_people import MemoryPeopleStore
from safeguard.storage.people_store import PeopleStore
from tests.contracts.people_store_contract import PeopleStoreContract


class TestMemoryPeopleStore(PeopleStoreContract):
    @pytest.fixture
    def store(self) -> PeopleStore:
        return MemoryPeopleStore()

    @pytest.fixture
    def case_ids(self) -> tuple[int, int]:
        return (1, 2)
