"""One triage run of an exhibit: the walk, the hashing pool, the uncommitted batch, progress.

`ScanRunner` walks the exhibit's items in order, skipping paths already recorded, and hands
each file to `hash_function`, in a worker pool when one is made: plain files by path,
contents inside containers as bytes read here (a container's stream is valid only while the
walk stands on the item), those too big to buffer hashed here as a stream. Results come
back in walk order and are matched and committed in batches (`ScanOptions.batch_files`,
`batch_seconds`), so a kill loses at most the uncommitted batch. `TriageService.scan` sets
up the run's records around it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence

from safeguard.batch.contract import BatchRunner
from safeguard.domain.cases import Exhibit, FileStatus, ScanRun
from safeguard.domain.errors import EvidenceError
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList
from safeguard.domain.matches import Match
from safeguard.extraction.contract import EvidenceItem
from safeguard.hashing.pipeline import hash_stream
from safeguard.services.examiner.triage_files import (
    HashFunction,
    HashJob,
    ScannedFile,
    hash_failed,
    result_of,
    with_video_frames,
)
from safeguard.services.examiner.triage_model import ScanOptions, ScanProgress
from safeguard.storage.case_store import CaseStore

RunnerFactory = Callable[[int], BatchRunner]
"""Makes a batch runner for `workers` processes (bootstrap: `LocalPoolRunner`)."""

ProgressCallback = Callable[["ScanProgress"], None]


class ScanRunner:
    """The state of one run: the walk, the uncommitted batch and the counters.

    Set `redo` (recorded paths to hash again) and `expected_files` before `run`; read the
    counters (`recorded`, `skipped`, `bytes_hashed`) after it.

    Args:
        store: where results are recorded.
        match_batch: the matches of each scanned file, in order, in one matcher call.
        hash_function: hashes one job (in a worker process when a pool is used).
        runner_factory: makes a pool of `options.workers` processes; None hashes here.
        prepare_matcher: loads the list index (in a thread, while the first files hash).
        exhibit, run: the exhibit scanned and the run recording it.
        options: the scan's options.
        lists: the lists in use: matches on others are not recorded.
        on_progress: called with progress events, at most every `progress_seconds`.
        expected_bytes: the exhibit's size, for progress (None when unknown).
    """

    def __init__(
        self,
        store: CaseStore,
        match_batch: Callable[[Sequence[ScannedFile]], list[list[Match]]],
        hash_function: HashFunction,
        runner_factory: RunnerFactory | None,
        prepare_matcher: Callable[[], object] | None,
        exhibit: Exhibit,
        run: ScanRun,
        options: ScanOptions,
        lists: Sequence[HashList],
        on_progress: ProgressCallback | None,
        expected_bytes: int | None,
    ) -> None:
        self._store = store
        self._match_batch = match_batch
        self._hash = hash_function
        self._runner_factory = runner_factory
        self._prepare_matcher = prepare_matcher
        self.exhibit = exhibit
        self.run_record = run
        self.options = options
        self.list_names = {hl.name for hl in lists}
        self.on_progress = on_progress
        self.expected_bytes = expected_bytes
        self.started = time.monotonic()
        self.recorded = 0
        self.skipped = 0
        self.bytes_hashed = 0
        self.counts: Counter[str] = Counter()
        self._batch: list[tuple[EvidenceItem, ScannedFile]] = []
        self._last_commit = time.monotonic()
        self._last_event = 0.0
        self._warm_up: threading.Thread | None = None
        self.redo: frozenset[str] = frozenset()
        self.resumed_files = 0
        self.resumed_bytes = 0
        self.expected_files: int | None = None

    def emit(
        self,
        event: str,
        *,
        force: bool = False,
        path: str | None = None,
        category: str | None = None,
    ) -> None:
        """Report progress to `on_progress`, at most every `progress_seconds` unless `force`."""
        if self.on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_event < self.options.progress_seconds:
            return
        self._last_event = now
        self.on_progress(
            ScanProgress(
                event=event,
                files=self.recorded,
                bytes=self.bytes_hashed,
                skipped=max(self.skipped, self.resumed_files),
                counts=dict(self.counts),
                expected_bytes=self.expected_bytes,
                elapsed=now - self.started,
                path=path,
                category=category,
                skipped_bytes=self.resumed_bytes,
                expected_files=self.expected_files,
            )
        )

    def run(self, items: Iterator[EvidenceItem]) -> None:
        """Hash, match and record each item not recorded yet (or in `redo`), in batches.

        Items repeating a path already walked are left out. On any error (or Ctrl-C) what
        is already hashed is committed before it propagates; the next run does the rest.
        """
        store = self._store
        done = store.recorded_paths(self.exhibit.exhibit_id) - self.redo
        if done:
            # A resumed run's progress starts at the work already done, not at zero.
            self.resumed_files = len(done)
            self.resumed_bytes = sum(
                r.size or 0 for r in store.results(self.exhibit.exhibit_id) if r.path in done
            )
        walked: deque[EvidenceItem] = deque()

        def jobs() -> Iterator[HashJob]:
            seen: set[str] = set()
            for item in items:
                if item.path in done:
                    self.skipped += 1
                    continue
                if item.path in seen:
                    continue
                seen.add(item.path)
                # Read now: a container's stream is valid only while the walk stands here.
                job = self._job(item)
                walked.append(item)
                yield job

        workers = max(1, self.options.workers)
        factory = self._runner_factory
        hash_function = self._hash
        results: Iterator[ScannedFile | FileHashes]
        if factory is None or workers == 1:
            results = (hash_function(job) for job in jobs())
        else:
            results = factory(workers).map_ordered(hash_function, jobs(), on_error=hash_failed)
        # Loading the list index can take seconds: do it while the first files are hashed.
        prepare = self._prepare_matcher
        if prepare is not None:
            self._warm_up = threading.Thread(target=prepare, daemon=True)
            self._warm_up.start()
        self.emit("started", force=True)
        try:
            for done_job in results:
                scanned = done_job if isinstance(done_job, ScannedFile) else ScannedFile(done_job)
                self._record(walked.popleft(), scanned)
        except (Exception, KeyboardInterrupt):
            # Keep what is already hashed (Ctrl-C, a reader bug); the next run does the rest.
            with contextlib.suppress(Exception):
                self._commit()
            raise
        self._commit()

    def _job(self, item: EvidenceItem) -> HashJob:
        options = self.options.hash_options
        video = self.options.video_sampling
        if item.local_path is not None:
            return HashJob(item.path, options, local_path=str(item.local_path), video=video)
        if item.file.link_target is not None and item.error is None:
            # Links are recorded, never followed: nothing to hash, nothing wrong.
            link = FileHashes(item.path, None, media_type="inode/symlink")
            return HashJob(item.path, options, ready=link)
        if not item.readable:
            reason = item.error or "no readable content"
            return HashJob(item.path, options, ready=FileHashes(item.path, None, error=reason))
        if item.size > self.options.inline_limit:
            # Too big to buffer: stream it here; the workers carry on with what is queued.
            return HashJob(item.path, options, ready=self._hash_stream_here(item))
        try:
            with item.open() as stream:
                data = stream.read()
        except (EvidenceError, OSError, EOFError, ValueError) as exc:
            failed = FileHashes(item.path, None, error=f"unreadable: {exc}")
            return HashJob(item.path, options, ready=failed)
        return HashJob(item.path, options, data=data, video=video)

    def _hash_stream_here(self, item: EvidenceItem) -> ScannedFile:
        try:
            with item.open() as stream:
                hashes = hash_stream(stream, item.path, self.options.hash_options)
            if self.options.video_sampling is None or not hashes.media_type.startswith("video/"):
                return ScannedFile(hashes)
            # A second read, for the frames: a video this big is rare inside a container.
            return with_video_frames(hashes, item.open, self.options.video_sampling)
        except (EvidenceError, OSError, EOFError, ValueError) as exc:
            return ScannedFile(FileHashes(item.path, None, error=f"unreadable: {exc}"))

    def _record(self, item: EvidenceItem, scanned: ScannedFile) -> None:
        self._batch.append((item, scanned))
        now = time.monotonic()
        full = len(self._batch) >= self.options.batch_files
        # While the index loads, results wait in the batch (up to a full one, which keeps
        # what a kill can lose to one batch): waiting for the index at the first result
        # would stop taking results, and the workers would stand idle with their queue full.
        if full or (
            now - self._last_commit >= self.options.batch_seconds and self._matcher_ready()
        ):
            self._commit()
        self.emit("progress")

    def _matcher_ready(self) -> bool:
        if self._warm_up is not None and not self._warm_up.is_alive():
            self._warm_up = None
        return self._warm_up is None

    def _commit(self) -> None:
        """Match the batch (one call for all of it), record it atomically, count it."""
        if self._warm_up is not None:
            self._warm_up.join()
            self._warm_up = None
        if self._batch:
            scanned = [done for _, done in self._batch]
            found = self._match_batch(scanned)
            results = [
                result_of(item, done, [m for m in matches if m.list_name in self.list_names])
                for (item, done), matches in zip(self._batch, found, strict=True)
            ]
            self._store.record_results(self.exhibit.exhibit_id, self.run_record.run_id, results)
            self._batch = []
            for result, done in zip(results, scanned, strict=True):
                self.recorded += 1
                self.bytes_hashed += done.hashes.size or 0
                self.counts[result.status.value] += 1
                if result.status is FileStatus.KNOWN_BAD:
                    self.emit("hit", force=True, path=result.path, category=result.category.label)
        self._last_commit = time.monotonic()
