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

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from safeguard import __version__
from safeguard.domain.cases import ExhibitKind, ListVersion
from safeguard.domain.errors import EvidenceError, NotFoundError
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashList
from safeguard.domain.matches import Match
from safeguard.extraction.contract import EvidenceItem, ExtractionLimits
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
    ScannedFile,
    hash_job,
    match_scanned,
)
from safeguard.services.examiner.triage_model import ScanOptions, ScanOutcome, ScanProgress
from safeguard.services.examiner.triage_run import ProgressCallback, RunnerFactory, ScanRunner

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
        runner = ScanRunner(
            self._store,
            self._match_batch,
            self._hash,
            self._runner_factory,
            self._prepare_matcher,
            exhibit,
            run,
            options,
            lists,
            on_progress,
            exhibit_size(source),
        )
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
