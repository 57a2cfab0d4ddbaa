"""What a scan is asked to do and what it reports: options, progress events, outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

from safeguard.domain.cases import Exhibit, FileStatus, ScanRun
from safeguard.extraction.contract import ExtractionLimits
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.video import VideoSampling


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to scan.

    Attributes:
        lists: names of the lists to match against; empty means every enabled list.
        workers: hashing processes; 1 hashes in this process.
        batch_files, batch_seconds: commit after this many results or this long, whichever
            comes first; a kill loses at most one batch, which the next run redoes.
        inline_limit: contents inside containers up to this size are read here and sent to a
            worker as bytes; larger ones are hashed here as a stream, never buffered. Memory
            in flight stays under ``workers * 4 * inline_limit`` (the runner's queue depth).
        hash_options: which digests and limits.
        limits: archive and nesting limits for extraction.
        progress_seconds: least time between two progress events.
        video_sampling: which frames of a video to PDQ-hash and match (by default one a
            second plus keyframes); None hashes videos as plain files.
        rescan_changed: scan a completed exhibit that changed since (new, replaced or gone
            files) as a new run, hashing changed files again; without it such a scan is
            refused (`exhibit_changes.check_before_rescan`).
    """

    lists: tuple[str, ...] = ()
    workers: int = 1
    batch_files: int = 200
    batch_seconds: float = 1.0
    inline_limit: int = 8 * 1024 * 1024
    hash_options: HashOptions = field(default_factory=HashOptions)
    limits: ExtractionLimits = field(default_factory=ExtractionLimits)
    progress_seconds: float = 0.5
    video_sampling: VideoSampling | None = field(default_factory=VideoSampling)
    rescan_changed: bool = False


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """A progress event.

    Attributes:
        event: ``started``, ``progress``, ``hit`` (a known-bad file) or ``finished``.
        files: files recorded by this run so far.
        bytes: bytes hashed by this run so far.
        skipped: files already recorded by an earlier run and not redone.
        counts: results per status recorded by this run.
        expected_bytes: rough total for an ETA (exhibit size), None when unknown.
        elapsed: seconds since the run started.
        path, category: for ``hit`` events, the file and its category label.
        skipped_bytes: bytes of the files already recorded (a resumed bar starts there).
        expected_files: files in a folder exhibit (for "N of total"), None when unknown
            (disk images and archives are counted only as they are walked).
    """

    event: str
    files: int
    bytes: int
    skipped: int
    counts: dict[str, int]
    expected_bytes: int | None
    elapsed: float
    path: str | None = None
    category: str | None = None
    skipped_bytes: int = 0
    expected_files: int | None = None

    def as_record(self) -> dict[str, object]:
        """JSON-ready mapping for ``--json`` event lines."""
        record: dict[str, object] = {
            "event": self.event,
            "files": self.files,
            "bytes": self.bytes,
            "skipped": self.skipped,
            "counts": self.counts,
            "expected_bytes": self.expected_bytes,
            "skipped_bytes": self.skipped_bytes,
            "expected_files": self.expected_files,
            "elapsed_s": round(self.elapsed, 3),
            "files_per_s": round(self.files / self.elapsed, 1) if self.elapsed else None,
            "bytes_per_s": round(self.bytes / self.elapsed) if self.elapsed else None,
        }
        if self.path is not None:
            record.update(path=self.path, category=self.category)
        return record


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """What one `scan` call did."""

    exhibit: Exhibit
    run: ScanRun
    recorded: int
    skipped: int
    bytes_hashed: int
    counts: dict[FileStatus, int]
    elapsed: float
    errors: tuple[tuple[str, str], ...] = ()
    """``(path, reason)`` of every error item in the exhibit, in path order."""
