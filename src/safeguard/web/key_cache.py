"""Recently authenticated API tokens, cached briefly so matching does not query keys per call."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from safeguard.domain.service import ApiKey

KEY_CACHE_SECONDS = 5.0

KNOWN_GOOD_SECONDS = 3600.0
"""How long a token that was a valid key is remembered as such (its digest only): looking
it up again when its cached answer expires is a revalidation, not a guess, and is not
charged to the client address's limit (`safeguard.web.client_limits`)."""


class KeyCache:
    """Recently authenticated tokens, by SHA-256 of the token, for a few seconds."""

    def __init__(self, ttl: float = KEY_CACHE_SECONDS) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}
        self._known_good: dict[str, float] = {}

    def lookup(self, token: str) -> tuple[bool, ApiKey | None]:
        """``(True, key or None)`` when the token's answer is cached and fresh, else ``(False, None)``."""
        cached = self._entries.get(self._digest(token))
        if cached is not None and cached[0] > time.monotonic():
            return True, cached[1]
        return False, None

    def remember(self, token: str, key: ApiKey | None) -> None:
        """Cache the answer for `token` (None: unknown or revoked) for the TTL."""
        digest = self._digest(token)
        now = time.monotonic()
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (now + self._ttl, key)
            if key is None:
                self._known_good.pop(digest, None)
            else:
                if len(self._known_good) > 10_000:
                    self._known_good.clear()
                self._known_good[digest] = now + KNOWN_GOOD_SECONDS

    def was_valid(self, token: str) -> bool:
        """Whether `token` was a valid key when last looked up, within the last hour."""
        until = self._known_good.get(self._digest(token))
        return until is not None and until > time.monotonic()

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
