"""This process's view of the lists: the matcher, the list settings and their freshness.

`IndexKeeper` keeps this process's matcher and list settings in step with the shared
store: it checks the store's revision (a cheap query) when woken by a change notice (on
PostgreSQL, see `safeguard.storage.sql.change_notices`) and at least every
`poll_interval`, and when it moved lets the matcher catch up incrementally from the change
log, so several worker processes never reload a whole index at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol

from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList
from safeguard.domain.matches import Match
from safeguard.services.background_loop import BackgroundLoop
from safeguard.storage.hash_list_store import HashListStore


class Matcher(Protocol):
    """What the service needs of `safeguard.services.matching.MatchService`."""

    def match_file_hashes(self, file_hashes: FileHashes) -> Sequence[Match]:
        """Every match of one file's hashes against the enabled lists."""
        ...

    def match_many(self, many: Sequence[FileHashes]) -> Sequence[Sequence[Match]]:
        """`match_file_hashes` for many files in one index search, in order."""
        ...

    def refresh(self) -> int:
        """Catch up with the store's changes; returns the revision now served."""
        ...


def utcnow() -> datetime:
    """The current time in UTC (the keeper's and the upload service's default clock)."""
    return datetime.now(UTC)


class IndexKeeper:
    """This process's view of the lists: the matcher, list settings, and their freshness."""

    def __init__(
        self,
        matcher: Matcher,
        lists: HashListStore,
        poll_interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._matcher = matcher
        self._lists_store = lists
        self._clock = clock
        # One lock for matching and refreshing: a refresh never runs under a query.
        self._lock = threading.RLock()
        self._lists: dict[str, HashList] = {}
        self._revision = -1
        self._checked_at: datetime | None = None
        self._refreshed_at: datetime | None = None
        self._poller = BackgroundLoop(
            "index-keeper",
            self.ensure_fresh,
            poll_interval,
            wait_first=True,
            failure="index refresh failed (readiness reports the staleness meanwhile)",
        )

    @property
    def loaded(self) -> bool:
        """True once the index has been loaded at least once."""
        return self._revision >= 0

    @property
    def revision(self) -> int:
        """The store revision the index serves; -1 before the first load."""
        return self._revision

    @property
    def checked_at(self) -> datetime | None:
        """When the store's revision was last compared with ours."""
        return self._checked_at

    @property
    def refreshed_at(self) -> datetime | None:
        """When the index last changed (or was first loaded)."""
        return self._refreshed_at

    def lists(self) -> dict[str, HashList]:
        """The lists by name, as of the served revision."""
        return dict(self._lists)

    def ensure_fresh(self, force: bool = False) -> int:
        """Catch up with the store if its revision moved; returns the served revision.

        Args:
            force: refresh the list settings even when the revision did not move.
        """
        current = self._lists_store.current_revision()
        self._checked_at = self._clock()
        if current == self._revision and not force:
            return self._revision
        with self._lock:
            if current != self._revision or force:
                self._matcher.refresh()
                self._lists = {hl.name: hl for hl in self._lists_store.all_lists()}
                self._revision = current
                self._refreshed_at = self._clock()
        return self._revision

    @contextmanager
    def reading(self) -> Iterator[Matcher]:
        """The matcher, held so that no refresh runs while it is used.

        Loaded first if it never was (it would load itself at its first query), so that
        `revision` is then the one it serves: writes of seen uploads are marked by it.
        """
        if not self.loaded:
            self.ensure_fresh()
        with self._lock:
            yield self._matcher

    @contextmanager
    def reading_if_free(self) -> Iterator[Matcher | None]:
        """The matcher if no refresh holds it now, else None (never waits)."""
        if not self._lock.acquire(blocking=False):
            yield None
            return
        try:
            yield self._matcher
        finally:
            self._lock.release()

    def staleness_seconds(self) -> float | None:
        """Seconds since the store's revision was last checked; None before the first check."""
        if self._checked_at is None:
            return None
        return (self._clock() - self._checked_at).total_seconds()

    def start(self) -> None:
        """Poll the store from a background thread every `poll_interval` seconds."""
        self._poller.start()

    def wake(self, _revision: int = -1) -> None:
        """Check the store now rather than at the next poll (a change was announced)."""
        self._poller.wake()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling."""
        self._poller.stop(timeout)
