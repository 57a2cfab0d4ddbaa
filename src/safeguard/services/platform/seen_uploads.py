"""Keeping the hashes of unmatched uploads without a database write per request.

Most queries match nothing, yet each is kept (hashes only) so that retroactive matching can
find it when a list later gains its hash. For a platform's hashes sent as JSON, writing one
row and committing per request cost several times the lookup itself, so
`SeenUploadWriter` collects those rows and writes them in one transaction every `interval`
seconds (or `max_batch` rows), from its own thread (`UploadMatchingService.
match_hashes_at_once`). So do hashes whose matches' actions store nothing (lists that only
block): their hits are claimed when the row is written. Uploaded content, and matches
whose actions draft a report, quarantine or a webhook, still write at once: hashing costs
far more than the write, and those answers carry their records' ids.

Nothing is missed by the delay, even if the process dies: a list change committed while a
row waited in the buffer was re-matched (by some process) against the rows stored *then*,
which did not yet include it. So the write itself marks, in its transaction, the rows
matched at an older list revision than the one committed at that moment
(`ServiceStore.add_seen_many`); a change committed later sees the rows. A marked row is
matched again, its hits claimed and acted on exactly as retroactive matching does, and its
mark cleared: at once by the writing process (after it has caught up), and, should that
process die first, by the retroactive-jobs worker of any process (`rematch_marked`). Both
may meet the same row: a hit is claimed once, so it never acts twice. Until `start` is
called (tests, tools) rows are written at once.

The writes that do not wait (`UploadMatchingService`'s uploads, matches whose actions store
something, and the batch endpoint's `add_seen_many`) mark their rows the same way, with the
revision each was matched at: a list change can commit between a match and its write there
too. Their process does not re-match them itself (that would cost a read of the revision
per request); the retroactive-jobs worker does, within its poll interval. The hits their
answer reported are claimed right after the insert, so the re-match acts only on the
others; should it come in between and claim one first, that hit is acted on once all the
same (as retroactive), and the answer still says block.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList
from safeguard.domain.matches import Match
from safeguard.domain.service import SeenUpload
from safeguard.services.background_loop import BackgroundLoop
from safeguard.services.platform.actions import ActionService
from safeguard.storage.service_store import ServiceStore

FLUSH_SECONDS = 0.25
"""Longest time an unmatched upload's hashes wait before they are stored."""

MAX_BATCH = 1_000
"""Rows written at once at most; a full buffer is written without waiting."""

REMATCH_BATCH = 500
"""Marked rows `rematch_marked` reads and matches again at once."""


class Rematcher(Protocol):
    """What the writer needs of `safeguard.services.platform.index_keeper.IndexKeeper`."""

    def ensure_fresh(self, force: bool = False) -> int:
        """Catch up with the store; returns the revision now served."""
        ...

    def lists(self) -> dict[str, HashList]:
        """The lists by name, as served."""
        ...


@dataclass(frozen=True, slots=True)
class _Waiting:
    upload: SeenUpload
    hashes: FileHashes
    revision: int
    matches: tuple[Match, ...] = ()


class SeenUploadWriter:
    """Buffered, batched storage of unmatched uploads; thread-safe.

    Args:
        store: where seen uploads are kept.
        current_revision: reads the list store's revision (one small query).
        keeper: brings this process's matcher up to date before a re-match.
        match: matches one item's hashes with the (fresh) matcher.
        actions: runs the lists' actions on hits found by a re-match.
    """

    def __init__(
        self,
        store: ServiceStore,
        current_revision: Callable[[], int],
        keeper: Rematcher,
        match: Callable[[FileHashes], Sequence[Match]],
        actions: ActionService,
        interval: float = FLUSH_SECONDS,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._store = store
        self._current_revision = current_revision
        self._keeper = keeper
        self._match = match
        self._actions = actions
        self._max_batch = max(1, max_batch)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._writer = BackgroundLoop(
            "seen-uploads",
            self.flush,
            interval,
            wait_first=True,
            failure="storing seen uploads failed (the rows stay lost only if the store is down)",
        )

    @property
    def running(self) -> bool:
        """True while the background writer runs (rows are buffered)."""
        return self._writer.running

    def add(
        self,
        upload: SeenUpload,
        hashes: FileHashes,
        revision: int,
        matches: Sequence[Match] = (),
    ) -> None:
        """Keep an upload that was matched at list revision `revision`.

        Args:
            upload: the upload's record (no id yet).
            hashes: its hashes, for a re-match.
            revision: the list revision its answer came from.
            matches: what it matched, if anything: only matches whose actions store
                nothing (block), for the answer did not wait for them. Their hits are
                claimed when the row is written (and acted on then, by the lists' actions
                of that moment), so retroactive matching never acts on them again.
        """
        item = _Waiting(upload, hashes, revision, tuple(matches))
        if not self.running:
            self._write([item])
            return
        with self._lock:
            self._waiting.append(item)
            full = len(self._waiting) >= self._max_batch
        if full:
            self._writer.wake()

    def flush(self) -> int:
        """Write every waiting row now; returns how many were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._waiting = self._waiting, []
            if batch:
                self._write(batch)
            return len(batch)

    def start(self) -> None:
        """Write from a background thread from now on."""
        self._writer.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and write what is waiting."""
        self._writer.stop(timeout)
        self.flush()

    def rematch_marked(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Match the rows marked as owing a re-match again, by whichever process wrote them.

        Their hits are claimed and acted on (as retroactive), then their marks cleared;
        until `stop()` or none is left. For the retroactive-jobs worker. Returns how many.
        """
        done = 0
        while not stop():
            marked = self._store.seen_to_rematch(REMATCH_BATCH)
            if not marked:
                break
            # Caught up after the rows were read: their marks were set against a revision
            # committed before them, so the one served now is at least as new.
            self._keeper.ensure_fresh()
            self._rematch([(row, _hashes_of(row)) for row in marked])
            done += len(marked)
            if len(marked) < REMATCH_BATCH:
                break
        return done

    def _write(self, batch: Sequence[_Waiting]) -> None:
        ids = self._store.add_seen_many(
            [item.upload for item in batch], [item.revision for item in batch]
        )
        matched = [
            (item, upload_id) for item, upload_id in zip(batch, ids, strict=True) if item.matches
        ]
        if matched:
            self._claim(matched)
        revision = self._current_revision()
        stale = [
            (replace(item.upload, upload_id=upload_id), item.hashes)
            for item, upload_id in zip(batch, ids, strict=True)
            if item.revision < revision
        ]
        if stale:
            self._rematch(stale)

    def _claim(self, matched: Sequence[tuple[_Waiting, int]]) -> None:
        """Claim the hits the answers reported, as the one-at-a-time path does at once."""
        lists: Mapping[str, HashList] = self._keeper.lists()
        for item, upload_id in matched:
            stored = replace(item.upload, upload_id=upload_id)
            fresh = [
                m for m in item.matches if self._store.claim_hit(upload_id, m.list_name, m.entry_id)
            ]
            if fresh:
                self._actions.act(stored, fresh, lists)

    def _rematch(self, stale: Sequence[tuple[SeenUpload, FileHashes]]) -> None:
        """Match rows again that a list change may have passed by while they waited.

        Safe to repeat (a hit is claimed once): the worker of another process may meet the
        same marked rows. Their marks are cleared only once all were acted on.
        """
        self._keeper.ensure_fresh()
        lists: Mapping[str, HashList] = self._keeper.lists()
        for stored, hashes in stale:
            matches = self._match(hashes)
            fresh = [
                m
                for m in matches
                if self._store.claim_hit(stored.upload_id or 0, m.list_name, m.entry_id)
            ]
            if fresh:
                self._actions.act(stored, fresh, lists, retroactive=True)
        self._store.mark_rematched([stored.upload_id for stored, _ in stale])


def _hashes_of(upload: SeenUpload) -> FileHashes:
    """A stored row's hashes as the matcher takes them (what the row keeps: no PhotoDNA)."""
    return FileHashes(
        path="seen upload",
        size=upload.size,
        digests=dict(upload.digests),
        pdq=upload.pdq,
        pdq_quality=upload.pdq_quality,
        media_type=upload.media_type,
    )
