from __future__ import annotations

import pytest

from safeguard.storage.memory_service import MemoryServiceStore
from safeguard.storage.service_store import ServiceStore
from tests.contracts.service_store_contract import ServiceStoreContract


class TestMemoryServiceStore(ServiceStoreContract):
    @pytest.fixture
    def store(self) -> ServiceStore:
        return MemoryServiceStore(list_revision=lambda: 0)


def test_without_the_list_revision_every_row_given_one_is_marked() -> None:
    from datetime import UTC, datetime

    from safeguard.domain.service import SeenUpload

    store = MemoryServiceStore()
    seen = SeenUpload(received_at=datetime(2026, 12, 7, tzinfo=UTC))
    ids = store.add_seen_many([seen, seen], revisions=[5, 7])
    assert [u.upload_id for u in store.seen_to_rematch(10)] == ids
