"""One file's way through triage: the worker's job, its matches, its status and its result.

A video's sampled frames travel with its hashes (`ScannedFile`) and are matched with them.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from safeguard.domain.cases import FileResult
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import EvidenceError, InputError
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import UNCATEGORISED, ListKind
from safeguard.domain.matches import Match
from safeguard.domain.statuses import status_of
from safeguard.extraction.contract import EvidenceItem
from safeguard.extraction.streams import open_local_file
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_bytes, hash_file
from safeguard.hashing.video import VideoFrameHash, VideoSampling, hash_video


@dataclass(frozen=True, slots=True)
class HashJob:
    """One file for a worker: its bytes, the local path it opens itself, or a ready result.

    Attributes:
        video: how to sample frames when the content is a video; None hashes no frames.
    """

    path: str
    options: HashOptions
    data: bytes | None = None
    local_path: str | None = None
    ready: FileHashes | ScannedFile | None = None
    video: VideoSampling | None = None


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """What a worker found in one file: its hashes and, for a video, its sampled frames.

    Attributes:
        hashes: digests (and PDQ for pictures) of the whole file.
        frames: PDQ hashes of the frames sampled from a video, in time order.
        media_error: why the video's frames could not be (fully) decoded; None otherwise.
    """

    hashes: FileHashes
    frames: tuple[VideoFrameHash, ...] = ()
    media_error: str | None = None

    @property
    def is_video(self) -> bool:
        """True when the content sniffed as a video."""
        return self.hashes.media_type.startswith("video/")


def hash_job(job: HashJob) -> ScannedFile:
    """Hash one job (runs in a worker process); errors come back inside the result."""
    if job.ready is not None:
        return job.ready if isinstance(job.ready, ScannedFile) else ScannedFile(job.ready)
    if job.data is not None:
        hashes = hash_bytes(job.data, job.path, job.options)
        data = job.data
        return with_video_frames(
            hashes, lambda: contextlib.nullcontext(io.BytesIO(data)), job.video
        )
    if job.local_path is None:
        return ScannedFile(FileHashes(path=job.path, size=None, error="no content to hash"))
    # hash_file opens read-only (and without touching the access time where it can).
    local = Path(job.local_path)
    hashes = hash_file(local, job.options, display_path=job.path)
    # Opened by us, not by FFmpeg: read-only and without touching the access time.
    return with_video_frames(hashes, lambda: open_local_file(local), job.video)


def with_video_frames(
    hashes: FileHashes,
    source: Callable[[], AbstractContextManager[BinaryIO]],
    sampling: VideoSampling | None,
) -> ScannedFile:
    """`hashes` plus the PDQ hashes of sampled frames when the content is a video.

    Args:
        hashes: the whole file's hashes (their media type says whether it is a video).
        source: opens the content again, read-only, for decoding.
        sampling: which frames to hash; None hashes none.
    """
    scanned = ScannedFile(hashes)
    if sampling is None or not scanned.is_video or not hashes.size:
        return scanned
    try:
        with source() as stream:
            video = hash_video(stream, sampling)
    except (InputError, EvidenceError, OSError, ValueError, EOFError) as exc:
        return ScannedFile(hashes, media_error=f"video not decoded: {_reason(exc)}")
    except Exception as exc:  # A decoder bug must not stop the scan: record it on the file.
        return ScannedFile(hashes, media_error=f"video not decoded: {type(exc).__name__}")
    error = f"video decoded in part: {video.error}" if video.error else None
    return ScannedFile(hashes, video.frames, error)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    # FFmpeg names its input at the end ("...: '7'", a descriptor number for a stream):
    # noise that would also make two scans of the same file record different reasons.
    filename = getattr(exc.__cause__, "filename", None)
    if filename is not None:
        text = text.removesuffix(f": {filename!r}").removesuffix(f": {filename}")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def hash_failed(job: HashJob, exc: BaseException) -> ScannedFile:
    """The result for a job whose worker raised or died: the file gets an error, the scan goes on."""
    failed = FileHashes(path=job.path, size=None, error=f"hashing failed: {type(exc).__name__}")
    return ScannedFile(failed)


HashFunction = Callable[[HashJob], ScannedFile | FileHashes]
"""Hashes one job; a plain `FileHashes` (a test double's) is taken as a file with no frames."""


def _deciding_match(matches: Sequence[Match]) -> Match | None:
    bad = [m for m in matches if m.list_kind is ListKind.KNOWN_BAD]
    # Exact matches first, then the closest perceptual one (for a video, the earliest frame).
    bad.sort(
        key=lambda m: (not m.is_exact, m.distance, m.frame_seconds or 0.0, m.list_name, m.entry_id)
    )
    return bad[0] if bad else None


def result_of(
    item: EvidenceItem, scanned: ScannedFile | FileHashes, matches: Sequence[Match]
) -> FileResult:
    """Combine an item's description, its hashes and its matches into a `FileResult`.

    Matches on a video's frames carry `Match.frame_seconds`; the result's `frame_seconds`
    is the deciding match's.
    """
    if isinstance(scanned, FileHashes):
        scanned = ScannedFile(scanned)
    fh = scanned.hashes
    errors = [e for e in (item.error, fh.error, scanned.media_error) if e]
    status = status_of(fh, matches, item.error, scanned.media_error)
    deciding = _deciding_match(matches)
    ordered = sorted(
        matches,
        key=lambda m: (m.list_name, m.entry_id, m.algorithm.value, m.frame_seconds or 0.0),
    )
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
        frame_seconds=deciding.frame_seconds if deciding else None,
        video_frames=len(scanned.frames) if scanned.is_video else None,
    )


def is_searchable(fh: FileHashes) -> bool:
    """True when a matcher has something to look up for `fh`."""
    return bool(fh.digests) or fh.pdq is not None


def frame_queries(scanned: ScannedFile) -> list[tuple[float, FileHashes]]:
    """(time, query) for each distinct frame hash of a video that is fit for matching.

    Frames below the PDQ quality floor (dark, flat or blurred frames) are left out; of
    frames with the same hash (a still scene) only the earliest is searched.
    """
    floor = scanned.hashes.pdq_floor
    seen: set[str] = set()
    queries: list[tuple[float, FileHashes]] = []
    for frame in scanned.frames:
        if frame.quality < floor or frame.pdq in seen:
            continue
        seen.add(frame.pdq)
        query = FileHashes(
            scanned.hashes.path,
            None,
            pdq=frame.pdq,
            pdq_quality=frame.quality,
            media_type=scanned.hashes.media_type,
            pdq_floor=floor,
        )
        queries.append((frame.time_seconds, query))
    return queries


def frame_matches(times: Sequence[float], found: Sequence[Sequence[Match]]) -> list[Match]:
    """Known-bad matches of a video's frames, one per list entry, each with its frame time.

    Only known-bad lists count for frames: a frame that looks like a known-good picture
    (a logo, a title card) says nothing about the rest of the video. Of the frames that
    match one entry, the closest is kept, and of equally close ones the earliest.
    """
    best: dict[tuple[str, str], Match] = {}
    for time, matches in zip(times, found, strict=True):
        for match in matches:
            if match.list_kind is not ListKind.KNOWN_BAD:
                continue
            timed = replace(match, frame_seconds=time)
            key = (match.list_name, match.entry_id)
            kept = best.get(key)
            if kept is None or (timed.distance, time) < (kept.distance, kept.frame_seconds or 0.0):
                best[key] = timed
    return list(best.values())


def match_scanned(
    scanned: Sequence[ScannedFile],
    match_queries: Callable[[Sequence[FileHashes]], list[list[Match]]],
) -> list[list[Match]]:
    """Matches for each file: its own hashes', then its video frames' (with frame times).

    Every query of the batch goes to `match_queries` in one call, in order.
    """
    queries: list[FileHashes] = []
    spans: list[tuple[int, int, list[float]]] = []
    for item in scanned:
        start = len(queries)
        if is_searchable(item.hashes):
            queries.append(item.hashes)
        frames = frame_queries(item)
        queries.extend(query for _, query in frames)
        spans.append((start, len(queries) - start - len(frames), [t for t, _ in frames]))
    found = match_queries(queries)
    matched: list[list[Match]] = []
    for start, own, times in spans:
        matches = [m for hits in found[start : start + own] for m in hits]
        after = start + own
        matches += frame_matches(times, found[after : after + len(times)])
        matched.append(matches)
    return matched
