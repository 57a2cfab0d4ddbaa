"""Issue, check and revoke API keys; only a SHA-256 of each secret is ever stored.

A token reads ``sg_<key_id>_<secret>``: the id finds the stored key, and the secret's
hash is compared in constant time. Secrets are 256 random bits, so a fast hash is enough
(there is nothing to brute-force, unlike a password).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from safeguard.domain.cases import AuditEvent
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.service import ApiKey, Scope
from safeguard.storage.service_store import ServiceStore

TOKEN_PREFIX = "sg_"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its token; the token is shown once and cannot be recovered."""

    key: ApiKey
    token: str


class ApiKeyService:
    """Issue, authenticate and revoke API keys."""

    def __init__(self, store: ServiceStore, clock: Callable[[], datetime] = _utcnow) -> None:
        self._store = store
        self._clock = clock

    def create(
        self,
        name: str,
        scopes: Iterable[Scope],
        rate_per_minute: int | None = None,
        actor: str = "cli",
    ) -> IssuedKey:
        """Issue a key with these scopes and return it with its one-time token.

        Raises:
            ConfigurationError: no scopes, an empty name, or a non-positive rate.
        """
        chosen = frozenset(scopes)
        if not chosen:
            raise ConfigurationError("a key needs at least one scope")
        if not name.strip():
            raise ConfigurationError("a key needs a name")
        if rate_per_minute is not None and rate_per_minute < 1:
            raise ConfigurationError("rate must be at least 1 request a minute")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(
            key_id=key_id,
            name=name.strip(),
            secret_sha256=_secret_hash(secret),
            scopes=chosen,
            rate_per_minute=rate_per_minute,
            created_at=self._clock(),
        )
        self._store.add_key(key)
        self._store.add_audit(
            AuditEvent(
                at=key.created_at,
                actor=actor,
                action="key.created",
                detail={"key_id": key_id, "scopes": ",".join(sorted(chosen))},
            )
        )
        return IssuedKey(key, f"{TOKEN_PREFIX}{key_id}_{secret}")

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key this token belongs to, or None for any unknown, bad or revoked token."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        key_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
        if not sep or not key_id or not secret:
            return None
        key = self._store.get_key(key_id)
        # Compare even when the key is unknown so timing says nothing about which ids exist.
        expected = key.secret_sha256 if key is not None else "0" * 64
        if not hmac.compare_digest(expected, _secret_hash(secret)):
            return None
        if key is None or not key.active:
            return None
        return key

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first (no secrets: none are stored)."""
        return self._store.list_keys()

    def revoke(self, key_id: str, actor: str = "cli") -> ApiKey:
        """Revoke a key at once.

        Raises:
            NotFoundError: no such key.
        """
        key = self._store.revoke_key(key_id, self._clock())
        self._store.add_audit(
            AuditEvent(
                at=self._clock(), actor=actor, action="key.revoked", detail={"key_id": key_id}
            )
        )
        return key
