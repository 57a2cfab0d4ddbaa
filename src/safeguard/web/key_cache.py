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

    def get(self, token: str, load: Callable[[str], ApiKey | None]) -> ApiKey | None:
        """The key of `token`, from the cache or from `load`."""
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        key = load(token)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (now + self._ttl, key)
        return key
