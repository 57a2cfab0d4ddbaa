"""Recently authenticated API tokens, cached briefly so matching does not query keys per call."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from safeguard.domain.service import ApiKey

KEY_CACHE_SECONDS = 5.0


class KeyCache:
    """Recently authenticated tokens, by SHA-256 of the token, for a few seconds."""

    def __init__(self, ttl: float = KEY_CACHE_SECONDS) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}

    def lookup(self, token: str) -> tuple[bool, ApiKey | None]:
        """``(True, key or None)`` when the token's answer is cached and fresh, else ``(False, None)``."""
        cached = self._entries.get(self._digest(token))
        if cached is not None and cached[0] > time.monotonic():
            return True, cached[1]
        return False, None

    def remember(self, token: str, key: ApiKey | None) -> None:
        """Cache the answer for `token` (None: unknown or revoked) for the TTL."""
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[self._digest(token)] = (time.monotonic() + self._ttl, key)

    def get(self, token: str, load: Callable[[str], ApiKey | None]) -> ApiKey | None:
        """The key of `token`, from the cache or from `load`."""
        found, key = self.lookup(token)
        if not found:
            key = load(token)
            self.remember(token, key)
        return key

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()
