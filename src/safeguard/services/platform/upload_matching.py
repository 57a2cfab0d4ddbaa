"""Hash, match and act on what a platform uploads, one item or many, keeping only hashes.

Queries are matched by this process's matcher as its `IndexKeeper`
(`safeguard.services.platform.index_keeper`) keeps it in step with the shared store.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm, normalise_digest
from safeguard.domain.errors import InputError
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList, ListKind
from safeguard.domain.matches import Match, Verdict, verdict_of
from safeguard.domain.service import ActionKind, SeenUpload, UploadContext, stored_actions
from safeguard.hashing.contract import PixelBudget
from safeguard.services.background_loop import BackgroundLoop
from safeguard.services.platform.actions import ActionOutcome, ActionService
from safeguard.services.platform.index_keeper import IndexKeeper, utcnow
from safeguard.services.platform.seen_uploads import SeenUploadWriter
from safeguard.storage.service_store import ServiceStore

logger = logging.getLogger(__name__)

Hasher = Callable[..., FileHashes]
"""Hashes content in memory: ``(data, display name) -> FileHashes``; never raises for bad input.

A hasher that bounds decoding (`safeguard.batch.isolated_decoding.IsolatedHasher`) also
takes ``budget=`` (a batch's `PixelBudget`) and ``cancel=`` (a `threading.Event` set when
the client went away); those are passed only when given."""

MAX_DEFERRED_RECORDS = 10_000
"""Uploads whose recording failed, kept in memory to be recorded later; beyond this the
oldest are dropped (and counted in the log)."""


_ALGORITHMS_BY_NAME: dict[str, HashAlgorithm] = {a.value: a for a in HashAlgorithm}

_STORELESS_ACTIONS = frozenset({ActionKind.BLOCK})
"""Actions that write nothing: an answer naming only these need not wait for a record."""


def _acts_without_store(matches: Sequence[Match], lists: Mapping[str, HashList]) -> bool:
    """True when no matched list's action writes anything (only block, or no action)."""
    for match in matches:
        hash_list = lists.get(match.list_name)
        if hash_list is None:
            return False  # let the one-at-a-time path decide
        if hash_list.kind is ListKind.KNOWN_BAD:
            known, unknown = stored_actions(hash_list.action)
            if unknown or not known <= _STORELESS_ACTIONS:
                return False
    return True


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The answer for one item.

    Attributes:
        hashes: the item's hashes.
        matches: its matches (list, category, distance, quality, provenance).
        verdict: what the matches add up to.
        outcome: what the lists' actions did.
        upload_id: id of the seen-upload record, when the service keeps one.
    """

    hashes: FileHashes
    matches: tuple[Match, ...]
    verdict: Verdict
    outcome: ActionOutcome
    upload_id: int | None


@dataclass(frozen=True, slots=True)
class _Matched:
    """An upload as matched: what recording it (now, or later if the store fails) needs."""

    upload: SeenUpload
    matches: tuple[Match, ...]
    lists: dict[str, HashList]
    revision: int


class UploadMatchingService:
    """Hash an upload or take a platform's hashes, match them, record them, act on matches."""

    def __init__(
        self,
        hasher: Hasher,
        keeper: IndexKeeper,
        actions: ActionService,
        store: ServiceStore,
        keep_seen: bool = True,
        clock: Callable[[], datetime] = utcnow,
        seen_writer: SeenUploadWriter | None = None,
    ) -> None:
        self._hasher = hasher
        self._keeper = keeper
        self._actions = actions
        self._store = store
        self._keep_seen = keep_seen
        self._clock = clock
        self._deferred: deque[_Matched] = deque()
        self._deferred_lock = threading.Lock()
        self._dropped = 0
        self._recorder: BackgroundLoop | None = None
        self._seen_writer = seen_writer

    def hash_upload(
        self,
        data: bytes,
        name: str = "upload",
        budget: PixelBudget | None = None,
        cancel: threading.Event | None = None,
    ) -> FileHashes:
        """Hash content in memory; nothing is written anywhere.

        Args:
            data: the content.
            name: its display name.
            budget: a batch's pixel budget, shared by its items.
            cancel: set when the caller no longer wants the answer.

        Raises:
            InputError: the content is empty, or is an image that cannot be decoded
                (the message says why).
        """
        if not data:
            raise InputError("the upload is empty")
        extra: dict[str, object] = {}
        if budget is not None:
            extra["budget"] = budget
        if cancel is not None:
            extra["cancel"] = cancel
        hashes = self._hasher(data, name, **extra)
        if hashes.error is not None:
            raise InputError(hashes.error)
        return hashes

    def match_upload(
        self,
        data: bytes,
        context: UploadContext | None = None,
        budget: PixelBudget | None = None,
        cancel: threading.Event | None = None,
    ) -> ItemResult:
        """Hash an upload, match it, keep its hashes, run the matched lists' actions.

        Raises:
            InputError: as for `hash_upload`.
        """
        context = context or UploadContext()
        hashes = self.hash_upload(data, context.file_name or "upload", budget, cancel)
        return self._match(hashes, context)

    def match_hashes(
        self,
        digests: Mapping[HashAlgorithm | str, str],
        pdq_quality: int | None = None,
        context: UploadContext | None = None,
    ) -> ItemResult:
        """Match hashes the platform computed itself (no content).

        Args:
            digests: any of md5, sha1, sha256, pdq, photodna (PhotoDNA matches by equal
                value only).
            pdq_quality: the PDQ quality the platform computed; PDQ hashes below the
                quality floor are not used for matching. When not given, 100 is assumed
                (the caller vouches for its hash).
            context: platform metadata for reports.

        Raises:
            InvalidDigestError: a value is malformed or the algorithm unknown.
            InputError: no usable digest.
        """
        context = context or UploadContext()
        return self._match(self._hashes_of(digests, pdq_quality, context), context)

    def match_hashes_at_once(
        self,
        digests: Mapping[HashAlgorithm | str, str],
        pdq_quality: int | None = None,
        context: UploadContext | None = None,
    ) -> ItemResult | None:
        """`match_hashes` if it can answer without waiting for a write or a lock, else None.

        That is the common case of a platform's hashes that match nothing, or match only
        lists whose actions store nothing (block), while the seen uploads are written in
        batches: only the lookup runs, so a server may call this on its event loop and save
        a thread hop. Such an answer has no `upload_id`. None means: call `match_hashes` (a
        match needs its actions run now, or a refresh holds the index).

        Raises:
            InvalidDigestError, InputError: as `match_hashes`.
        """
        if self._keep_seen and (self._seen_writer is None or not self._seen_writer.running):
            return None
        context = context or UploadContext()
        hashes = self._hashes_of(digests, pdq_quality, context)
        with self._keeper.reading_if_free() as matcher:
            if matcher is None:
                return None
            matches = tuple(matcher.match_file_hashes(hashes))
            revision = self._keeper.revision
        outcome = ActionOutcome()
        if matches:
            lists = self._keeper.lists()
            if not _acts_without_store(matches, lists):
                return None
            outcome = ActionOutcome(block=self._actions.blocks(matches, lists))
        if self._seen_writer is not None and self._keep_seen:
            self._seen_writer.add(self._seen(hashes, context), hashes, revision, matches)
        return ItemResult(hashes, matches, verdict_of(matches), outcome, None)

    @staticmethod
    def _hashes_of(
        digests: Mapping[HashAlgorithm | str, str],
        pdq_quality: int | None,
        context: UploadContext,
    ) -> FileHashes:
        crypto: dict[HashAlgorithm, str] = {}
        pdq: str | None = None
        for name, value in digests.items():
            algorithm = _ALGORITHMS_BY_NAME.get(str(name).lower())
            if algorithm is None:
                raise InputError(f"unsupported hash algorithm {name!r}")
            canonical = normalise_digest(algorithm, value)
            if algorithm is HashAlgorithm.PDQ:
                pdq = canonical
            else:
                crypto[algorithm] = canonical
        if not crypto and pdq is None:
            raise InputError("give at least one of md5, sha1, sha256, pdq, photodna")
        return FileHashes(
            path=context.file_name or "hashes",
            size=None,
            digests=crypto,
            pdq=pdq,
            pdq_quality=(100 if pdq_quality is None else pdq_quality) if pdq else None,
        )

    def match_hashes_many(
        self,
        items: Sequence[tuple[Mapping[HashAlgorithm | str, str], int | None, UploadContext | None]],
    ) -> list[ItemResult | InputError]:
        """`match_hashes` for many ``(digests, pdq_quality, context)`` items at once.

        One index search and one entry fetch for the whole batch (`MatchService.match_many`)
        and one write of all the hash records; then each item's actions. An item with bad
        input gets its `InputError` in its place and the others go on.
        """
        results: list[ItemResult | InputError | None] = [None] * len(items)
        prepared: list[tuple[int, FileHashes, UploadContext]] = []
        for position, (digests, pdq_quality, context) in enumerate(items):
            context = context or UploadContext()
            try:
                prepared.append((position, self._hashes_of(digests, pdq_quality, context), context))
            except InputError as exc:
                results[position] = exc
        with self._keeper.reading() as matcher:
            found = matcher.match_many([hashes for _, hashes, _ in prepared])
            revision = self._keeper.revision
        lists = self._keeper.lists()
        uploads = [self._seen(hashes, context) for _, hashes, context in prepared]
        ids: Sequence[int | None] = (
            self._store.add_seen_many(uploads, [revision] * len(uploads))
            if self._keep_seen
            else [None] * len(uploads)
        )
        for (position, hashes, _), matched, upload, upload_id in zip(
            prepared, found, uploads, ids, strict=True
        ):
            matches = tuple(matched)
            if upload_id is None:
                outcome = self._actions.act(upload, matches, lists)
            else:
                outcome = self._act_on_claimed(upload, upload_id, matches, lists)
            results[position] = ItemResult(hashes, matches, verdict_of(matches), outcome, upload_id)
        return [result for result in results if result is not None]

    def lookup(self, digests: Mapping[HashAlgorithm, str]) -> tuple[Match, ...]:
        """Matches for canonical digests, with no side effect at all.

        Nothing is kept for retroactive matching, no action runs, nothing is audited: a
        look-up answers a question (HMA's ``/m/lookup``), it does not report an upload. A PDQ
        hash is searched as given (its rotations cannot be derived from it).
        """
        pdq = digests.get(HashAlgorithm.PDQ)
        hashes = FileHashes(
            path="lookup",
            size=None,
            digests={a: v for a, v in digests.items() if a in CRYPTOGRAPHIC_ALGORITHMS},
            pdq=pdq,
            pdq_quality=100 if pdq else None,
        )
        with self._keeper.reading() as matcher:
            return tuple(matcher.match_file_hashes(hashes))

    def match_many(
        self, items: Sequence[Callable[[], ItemResult]]
    ) -> list[ItemResult | InputError]:
        """Run several item matches, keeping each item's input error instead of failing all."""
        results: list[ItemResult | InputError] = []
        for item in items:
            try:
                results.append(item())
            except InputError as exc:
                results.append(exc)
        return results

    def _match(self, hashes: FileHashes, context: UploadContext) -> ItemResult:
        with self._keeper.reading() as matcher:
            matches = tuple(matcher.match_file_hashes(hashes))
            revision = self._keeper.revision
        lists = self._keeper.lists()
        verdict = verdict_of(matches)
        upload = self._seen(hashes, context)
        if not self._keep_seen:
            outcome = self._actions.act(upload, matches, lists)
            return ItemResult(hashes, matches, verdict, outcome, None)
        try:
            upload_id, outcome = self._record(_Matched(upload, matches, lists, revision))
        except Exception as exc:  # the store failed: answer from the index, record later
            logger.warning(
                "recording an upload failed (%s); answered from the index, will record later",
                type(exc).__name__,
            )
            self._defer(_Matched(upload, matches, lists, revision))
            block = self._actions.blocks(matches, lists)
            return ItemResult(hashes, matches, verdict, ActionOutcome(block=block), None)
        return ItemResult(hashes, matches, verdict, outcome, upload_id)

    def _record(self, item: _Matched) -> tuple[int, ActionOutcome]:
        # With the revision it was matched at: marked if a list change committed since,
        # then re-matched by the retroactive-jobs worker (`SeenUploadWriter.rematch_marked`).
        upload_id = self._store.add_seen(item.upload, item.revision)
        return upload_id, self._act_on_claimed(item.upload, upload_id, item.matches, item.lists)

    def _act_on_claimed(
        self,
        upload: SeenUpload,
        upload_id: int,
        matches: Sequence[Match],
        lists: Mapping[str, HashList],
    ) -> ActionOutcome:
        """Claim each hit of a just-stored upload, then act on those claimed here.

        Claimed so that retroactive matching never acts on them a second time. Should the
        re-match of a marked row have claimed some first (and acted on them), the answer
        still says block when a matched list blocks: that needs no record.
        """
        fresh = [m for m in matches if self._store.claim_hit(upload_id, m.list_name, m.entry_id)]
        outcome = self._actions.act(replace(upload, upload_id=upload_id), fresh, lists)
        if len(fresh) < len(matches) and not outcome.block:
            outcome = replace(outcome, block=self._actions.blocks(matches, lists))
        return outcome

    def _defer(self, item: _Matched) -> None:
        with self._deferred_lock:
            if len(self._deferred) >= MAX_DEFERRED_RECORDS:
                self._deferred.popleft()
                self._dropped += 1
                logger.error("deferred upload records over the limit; %d dropped", self._dropped)
            self._deferred.append(item)

    @property
    def deferred_records(self) -> int:
        """Uploads answered but not yet recorded (the store was failing)."""
        return len(self._deferred)

    def record_deferred(self, limit: int = 500) -> int:
        """Record uploads whose recording failed earlier, oldest first; returns how many.

        Each with the list revision it was matched at, so that one whose lists changed
        meanwhile is marked for a re-match (`ServiceStore.add_seen`). Stops at the first
        failure (the store is still down), keeping the rest.
        """
        done = 0
        while done < limit:
            with self._deferred_lock:
                if not self._deferred:
                    break
                item = self._deferred[0]
            try:
                self._record(item)
            except Exception as exc:  # still failing: try again later
                logger.warning("recording deferred uploads failed (%s)", type(exc).__name__)
                break
            with self._deferred_lock:
                if self._deferred and self._deferred[0] is item:
                    self._deferred.popleft()
            done += 1
        return done

    def start(self, interval: float = 2.0) -> None:
        """Record deferred uploads from a background thread every `interval` seconds."""
        if self._recorder is not None and self._recorder.running:
            return
        self._recorder = BackgroundLoop(
            "deferred-records",
            lambda: self._deferred and self.record_deferred(),
            interval,
            wait_first=True,
            failure="recording deferred uploads failed",
        )
        self._recorder.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread (and make one last attempt to record)."""
        if self._recorder is not None:
            self._recorder.stop(timeout)
        if self._deferred:
            self.record_deferred(limit=MAX_DEFERRED_RECORDS)

    def _seen(self, hashes: FileHashes, context: UploadContext) -> SeenUpload:
        return SeenUpload(
            received_at=self._clock(),
            digests={a: v for a, v in hashes.digests.items() if a in CRYPTOGRAPHIC_ALGORITHMS},
            pdq=hashes.pdq if hashes.pdq_fit_for_matching else None,
            pdq_quality=hashes.pdq_quality,
            size=hashes.size,
            media_type=hashes.media_type,
            context=context,
        )
