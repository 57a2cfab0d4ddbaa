from __future__ import annotations

import pytest

from safeguard.domain.errors import ConfigurationError, NotFoundError
from safeguard.domain.service import Scope, parse_scopes
from safeguard.services.platform.api_keys import ApiKeyService
from safeguard.storage.memory_service import MemoryServiceStore


def test_keys_are_stored_hashed_and_authenticate() -> None:
    store = MemoryServiceStore()
    service = ApiKeyService(store)
    issued = service.create("platform", [Scope.MATCH], rate_per_minute=10)
    assert issued.token.startswith(f"sg_{issued.key.key_id}_")
    stored = store.get_key(issued.key.key_id)
    assert stored is not None
    secret = issued.token.split("_", 2)[2]
    assert secret not in repr(stored)
    assert service.authenticate(issued.token) == stored
    assert service.authenticate(issued.token + "x") is None
    assert service.authenticate("sg_unknown_secret") is None
    assert service.authenticate("not-a-token") is None
    assert stored.allows(Scope.MATCH)
    assert not stored.allows(Scope.LISTS_WRITE)


def test_revoked_keys_stop_working_and_everything_is_audited() -> None:
    store = MemoryServiceStore()
    service = ApiKeyService(store)
    issued = service.create("ops", parse_scopes("admin"))
    assert issued.key.allows(Scope.REPORTS_REVIEW)
    service.revoke(issued.key.key_id)
    assert service.authenticate(issued.token) is None
    assert [e.action for e in store.list_audit()] == ["key.revoked", "key.created"]
    assert all(issued.token not in str(e.detail) for e in store.list_audit())
    with pytest.raises(NotFoundError):
        service.revoke("nope")


def test_bad_key_requests_are_refused() -> None:
    service = ApiKeyService(MemoryServiceStore())
    with pytest.raises(ConfigurationError):
        service.create("x", [])
    with pytest.raises(ConfigurationError):
        service.create(" ", [Scope.MATCH])
    with pytest.raises(ConfigurationError):
        service.create("x", [Scope.MATCH], rate_per_minute=0)
    with pytest.raises(ConfigurationError, match="unknown scope"):
        parse_scopes("match,root")
