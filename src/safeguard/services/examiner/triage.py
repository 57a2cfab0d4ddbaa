"""Forensic triage of one exhibit: read, identify by content, hash, match, record; resumable.

The parent process walks the exhibit (`open_exhibit`) in its deterministic order, skips
paths that already have a committed result, and hands each file to a worker pool: plain
files by path (the worker opens them read-only), contents inside containers as bytes read
here, since a container's streams are valid only while the walk stands on the item. Results
come back in walk order, are matched here (the index lives in this process) and committed
in small batches. A kill loses at most the uncommitted batch; the next run redoes it, and
the store's (exhibit, path) key makes that an overwrite, never a duplicate.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from safeguard import __version__
from safeguard.batch.contract import BatchRunner
from safeguard.domain.cases import (
    Exhibit,
    ExhibitKind,
    FileStatus,
    ListVersion,
    ScanRun,
)
from safeguard.domain.errors import EvidenceError, NotFoundError
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList
from safeguard.domain.matches import Match
from safeguard.extraction.contract import EvidenceItem, ExtractionLimits
from safeguard.hashing.pipeline import hash_stream
from safeguard.services.examiner.cases import CaseService, Clock, utc_now
from safeguard.services.examiner.exhibit_changes import check_before_rescan
from safeguard.services.examiner.exhibit_integrity import (
    AcquisitionCheckThread,
    exhibit_file_count,
    exhibit_size,
    manifest_and_errors,
)
from safeguard.services.examiner.triage_files import (
    HashFunction,
    HashJob,
    ScannedFile,
    hash_failed,
    hash_job,
    match_scanned,
    result_of,
    with_video_frames,
)
from safeguard.services.examiner.triage_model import ScanOptions, ScanOutcome, ScanProgress

__all__ = [
    "BatchMatcher",
    "ExhibitOpener",
    "Matcher",
    "ProgressCallback",
    "RunnerFactory",
    "ScanOptions",
    "ScanOutcome",
    "ScanProgress",
    "TriageService",
]

ExhibitOpener = Callable[[Path, ExtractionLimits], Iterator[EvidenceItem]]
"""Walks an exhibit: `safeguard.extraction.registry.open_exhibit`."""

Matcher = Callable[[FileHashes], Sequence[Match]]
"""Matches one file's hashes against the lists: `MatchService.match_file_hashes`."""

BatchMatcher = Callable[[Sequence[FileHashes]], Sequence[Sequence[Match]]]
"""Matches many files in one call, one list of matches per file, in order (optional)."""

RunnerFactory = Callable[[int], BatchRunner]
"""Makes a batch runner for `workers` processes (bootstrap: `LocalPoolRunner`)."""

ProgressCallback = Callable[["ScanProgress"], None]


class TriageService:
    """Scans exhibits into cases; see the module docstring for the pipeline."""

    def __init__(
        self,
        cases: CaseService,
        open_exhibit: ExhibitOpener,
        match: Matcher,
        lists: Callable[[], Sequence[HashList]],
        runner_factory: RunnerFactory | None = None,
        hash_function: HashFunction = hash_job,
        clock: Clock = utc_now,
        prepare_matcher: Callable[[], object] | None = None,
        match_many: BatchMatcher | None = None,
    ) -> None:
        self._cases = cases
        self._store = cases.store
        self._open_exhibit = open_exhibit
        self._match = match
        self._lists = lists
        self._runner_factory = runner_factory
        self._hash = hash_function
        self._clock = clock
        self._prepare_matcher = prepare_matcher
        self._match_many = match_many

    def _match_batch(self, scanned: Sequence[ScannedFile]) -> list[list[Match]]:
        """Matches for each file (its video frames' included), in one matcher call."""
        return match_scanned(scanned, self._match_queries)

    def _match_queries(self, queries: Sequence[FileHashes]) -> list[list[Match]]:
        if not queries:
            return []
        if self._match_many is not None:
            return [list(hits) for hits in self._match_many(queries)]
        return [list(self._match(fh)) for fh in queries]

    def lists_in_use(self, names: Sequence[str]) -> list[HashList]:
        """The enabled lists named (all enabled lists when `names` is empty).

        Raises:
            NotFoundError: a named list does not exist.
        """
        available = {hl.name: hl for hl in self._lists()}
        missing = [n for n in names if n not in available]
        if missing:
            raise NotFoundError(f"no hash list named {', '.join(missing)}")
        chosen = [available[n] for n in names] if names else list(available.values())
        return sorted((hl for hl in chosen if hl.enabled), key=lambda hl: hl.name)

    def scan(
        self,
        exhibit_path: Path,
        case_reference: str,
        *,
        exhibit_reference: str | None = None,
        examiner: str = "",
        options: ScanOptions | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ScanOutcome:
        """Scan `exhibit_path` into the case, resuming where an earlier run of it stopped.

        The exhibit is identified by its reference within the case (default: the exhibit's
        file or folder name); running the same command again continues that exhibit.

        Raises:
            NotFoundError: no such case or list.
            AccessDeniedError: the case is closed (sealed).
            EvidenceError: the exhibit cannot be opened at all.
        """
        options = options or ScanOptions()
        case = self._cases.find(case_reference)
        self._cases.require_open(case)
        source = exhibit_path.resolve()
        if not source.exists():
            raise EvidenceError(f"exhibit not found: {exhibit_path}")
        kind = ExhibitKind.FOLDER if source.is_dir() else ExhibitKind.IMAGE_FILE
        reference = exhibit_reference or source.name
        examiner = examiner or case.examiner
        lists = self.lists_in_use(options.lists)
        known = {e.reference: e for e in self._store.exhibits(case.case_id)}.get(reference)
        redo = check_before_rescan(
            self._cases,
            case,
            known,
            self._open_exhibit(source, options.limits),
            rescan=options.rescan_changed,
            examiner=examiner,
        )
        # Opening detects the exhibit's kind: an unreadable exhibit fails before anything is recorded.
        items = self._open_exhibit(source, options.limits)
        exhibit = self._store.ensure_exhibit(
            case.case_id, reference, str(source), kind, self._clock()
        )
        versions = [ListVersion(hl.name, hl.kind, hl.version) for hl in lists]
        run = self._store.start_run(
            exhibit.exhibit_id, self._clock(), __version__, examiner, versions
        )
        self._cases.audit(
            examiner,
            "scan.started",
            case_id=case.case_id,
            exhibit_id=exhibit.exhibit_id,
            detail={
                "exhibit": reference,
                "source": str(source),
                "run": str(run.run_id),
                "lists": ", ".join(f"{v.name} {v.version}".strip() for v in versions),
            },
        )
        acquisition = (
            AcquisitionCheckThread(source)
            if kind is ExhibitKind.IMAGE_FILE and exhibit.acquisition_hash is None
            else None
        )
        runner = _ScanRunner(self, exhibit, run, options, lists, on_progress, exhibit_size(source))
        runner.redo = redo
        runner.expected_files = exhibit_file_count(source)
        runner.run(items)
        run = self._store.finish_run(run.run_id, self._clock())
        check = acquisition.result() if acquisition else None
        manifest, errors = manifest_and_errors(self._store.results(exhibit.exhibit_id))
        exhibit = self._store.update_exhibit(
            exhibit.exhibit_id,
            acquisition_hash=check.acquisition_hash if check else None,
            acquisition_verified=check.verified if check else None,
            acquisition_status=check.status if check else None,
            acquisition_segments=check.segments if check else None,
            manifest_sha256=manifest,
        )
        if check is not None:
            self._cases.audit(
                examiner,
                "exhibit.acquisition-checked",
                case_id=case.case_id,
                exhibit_id=exhibit.exhibit_id,
                detail={
                    "exhibit": reference,
                    "result": check.status,
                    "segments": ", ".join(check.segments),
                },
            )
        counts = self._store.status_counts(exhibit.exhibit_id)
        self._cases.audit(
            examiner,
            "scan.completed",
            case_id=case.case_id,
            exhibit_id=exhibit.exhibit_id,
            detail={
                "exhibit": reference,
                "run": str(run.run_id),
                "recorded": str(runner.recorded),
                "skipped": str(runner.skipped),
                "manifest_sha256": exhibit.manifest_sha256 or "",
                "counts": ", ".join(f"{s.value}={n}" for s, n in sorted(counts.items())),
            },
        )
        elapsed = time.monotonic() - runner.started
        runner.emit("finished", force=True)
        outcome = (exhibit, run, runner.recorded, runner.skipped, runner.bytes_hashed, counts)
        return ScanOutcome(*outcome, elapsed, errors)


class _ScanRunner:
    """The state of one run: the walk, the uncommitted batch and the counters."""

    def __init__(
        self,
        service: TriageService,
        exhibit: Exhibit,
        run: ScanRun,
        options: ScanOptions,
        lists: Sequence[HashList],
        on_progress: ProgressCallback | None,
        expected_bytes: int | None,
    ) -> None:
        self.service = service
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
        store = self.service._store
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
        factory = self.service._runner_factory
        hash_function = self.service._hash
        results: Iterator[ScannedFile | FileHashes]
        if factory is None or workers == 1:
            results = (hash_function(job) for job in jobs())
        else:
            results = factory(workers).map_ordered(hash_function, jobs(), on_error=hash_failed)
        # Loading the list index can take seconds: do it while the first files are hashed.
        prepare = self.service._prepare_matcher
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
            found = self.service._match_batch(scanned)
            results = [
                result_of(item, done, [m for m in matches if m.list_name in self.list_names])
                for (item, done), matches in zip(self._batch, found, strict=True)
            ]
            self.service._store.record_results(
                self.exhibit.exhibit_id, self.run_record.run_id, results
            )
            self._batch = []
            for result, done in zip(results, scanned, strict=True):
                self.recorded += 1
                self.bytes_hashed += done.hashes.size or 0
                self.counts[result.status.value] += 1
                if result.status is FileStatus.KNOWN_BAD:
                    self.emit("hit", force=True, path=result.path, category=result.category.label)
        self._last_commit = time.monotonic()
