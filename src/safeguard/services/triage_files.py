"""One file's way through triage: the hashing job a worker runs, its status and its result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from safeguard.domain.cases import FileResult, FileStatus
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import UNCATEGORISED, ListKind
from safeguard.domain.matches import Match, Verdict, verdict_of
from safeguard.extraction.contract import EvidenceItem
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_bytes, hash_file


@dataclass(frozen=True, slots=True)
class HashJob:
    """One file for a worker: its bytes, the local path it opens itself, or a ready result."""

    path: str
    options: HashOptions
    data: bytes | None = None
    local_path: str | None = None
    ready: FileHashes | None = None


def hash_job(job: HashJob) -> FileHashes:
    """Hash one job (runs in a worker process); errors come back inside `FileHashes`."""
    if job.ready is not None:
        return job.ready
    if job.data is not None:
        return hash_bytes(job.data, job.path, job.options)
    if job.local_path is None:
        return FileHashes(path=job.path, size=None, error="no content to hash")
    # hash_file opens read-only (and without touching the access time where it can).
    return hash_file(Path(job.local_path), job.options, display_path=job.path)


def hash_failed(job: HashJob, exc: BaseException) -> FileHashes:
    """The result for a job whose worker raised or died: the file gets an error, the scan goes on."""
    return FileHashes(path=job.path, size=None, error=f"hashing failed: {type(exc).__name__}")


HashFunction = Callable[[HashJob], FileHashes]


def status_of(fh: FileHashes, matches: Sequence[Match], item_error: str | None) -> FileStatus:
    """The status of one file.

    Known-bad always wins; a read error outranks known-good and every "unknown" status, so
    a damaged file is never hidden. Ignorable lists (e.g. NSRL) count as known-good, which
    only hides the file by default.
    """
    verdict = verdict_of(matches)
    if verdict is Verdict.KNOWN_BAD:
        return FileStatus.KNOWN_BAD
    if item_error or (fh.error and not fh.digests):
        return FileStatus.ERROR
    if verdict in (Verdict.KNOWN_GOOD, Verdict.IGNORABLE):
        return FileStatus.KNOWN_GOOD
    if fh.media_type.startswith("image/"):
        return FileStatus.UNKNOWN_IMAGE
    if fh.media_type.startswith("video/"):
        return FileStatus.UNKNOWN_VIDEO
    return FileStatus.OTHER


def _deciding_match(matches: Sequence[Match]) -> Match | None:
    bad = [m for m in matches if m.list_kind is ListKind.KNOWN_BAD]
    # Exact matches first, then the closest perceptual one.
    bad.sort(key=lambda m: (not m.is_exact, m.distance, m.list_name, m.entry_id))
    return bad[0] if bad else None


def result_of(item: EvidenceItem, fh: FileHashes, matches: Sequence[Match]) -> FileResult:
    """Combine an item's description, its hashes and its matches into a `FileResult`."""
    errors = [e for e in (item.error, fh.error) if e]
    status = status_of(fh, matches, item.error)
    deciding = _deciding_match(matches)
    ordered = sorted(matches, key=lambda m: (m.list_name, m.entry_id, m.algorithm.value))
    return FileResult(
        path=item.path,
        status=status,
        size=fh.size if fh.size is not None else item.size,
        md5=fh.digests.get(HashAlgorithm.MD5),
        sha1=fh.digests.get(HashAlgorithm.SHA1),
        sha256=fh.digests.get(HashAlgorithm.SHA256),
        pdq=fh.pdq,
        pdq_quality=fh.pdq_quality,
        media_type=fh.media_type,
        modified=item.file.modified,
        accessed=item.file.accessed,
        created=item.file.created,
        changed=item.file.changed,
        deleted=item.deleted,
        error="; ".join(dict.fromkeys(errors)) or None,
        category=deciding.category if deciding else UNCATEGORISED,
        matches=tuple(ordered),
    )
