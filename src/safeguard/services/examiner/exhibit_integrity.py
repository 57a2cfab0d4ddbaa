"""Integrity of a whole exhibit: its acquisition hash (E01 verified, split raw whole) and a manifest hash."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from safeguard.domain.cases import FileResult, FileStatus
from safeguard.domain.media import MediaKind, sniff_media_type
from safeguard.extraction.ewf import AcquisitionHashStatus, verify_ewf
from safeguard.extraction.split_raw import split_segments
from safeguard.extraction.streams import open_local_file

_EXHIBIT_CHUNK = 4 * 1024 * 1024


def manifest_sha256(results: Iterable[FileResult]) -> str:
    """SHA-256 over ``path<TAB>size<TAB>sha256`` lines of results in path order.

    Two scans of the same exhibit give the same value, so it stands in for an acquisition
    hash where there is none (folder exhibits).
    """
    digest = hashlib.sha256()
    for result in results:
        line = f"{result.path}\t{result.size if result.size is not None else ''}\t{result.sha256 or ''}\n"
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def manifest_and_errors(
    results: Iterable[FileResult],
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`manifest_sha256` of `results`, and ``(path, reason)`` of each error item, in one pass."""
    errors: list[tuple[str, str]] = []

    def noting_errors() -> Iterator[FileResult]:
        for result in results:
            if result.status is FileStatus.ERROR:
                errors.append((result.path, result.error or "no reason recorded"))
            yield result

    manifest = manifest_sha256(noting_errors())
    return manifest, tuple(errors)


def exhibit_size(path: Path) -> int | None:
    """Bytes in the exhibit (a file and its split segments, or a folder's files), for an ETA."""
    try:
        if path.is_file():
            return sum(segment.stat().st_size for segment in split_segments(path))
        return sum(
            (Path(root) / name).stat().st_size
            for root, _dirs, files in os.walk(path)
            for name in files
            if (Path(root) / name).is_file()
        )
    except OSError:
        return None


def exhibit_file_count(path: Path) -> int | None:
    """Files in a folder exhibit (for "N of total"); None for a file exhibit or on error."""
    if not path.is_dir():
        return None
    try:
        return sum(len(files) for _root, _dirs, files in os.walk(path))
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class AcquisitionCheck:
    """An exhibit file's acquisition hash and, for E01 sets, whether the media still matches it.

    Attributes:
        acquisition_hash: ``md5:<hex>`` stored in an E01 set (or computed when none is stored),
            else ``sha256:<hex>`` over every segment of the image in order; None when
            unreadable.
        verified: True/False when an E01 set's stored hash was compared (False too when the
            set is damaged, truncated or unreadable); None when there is nothing to compare.
        status: in words: ``verified``, ``mismatch: ...``, ``not stored``, ``computed``,
            ``unreadable: <why>``, ``damaged: <which chunks>``.
        segments: the files the hash covers, in order (one name for a single file).
    """

    acquisition_hash: str | None
    verified: bool | None
    status: str
    segments: tuple[str, ...] = ()


def check_acquisition(path: Path) -> AcquisitionCheck:
    """Hash an exhibit file, all its segments, read once and read-only; verify E01 sets.

    Files are opened with `open_local_file` (``O_NOATIME`` where granted), so the check
    leaves access times as they were.
    """
    try:
        with open_local_file(path) as stream:
            head = stream.read(64)
    except OSError as exc:
        return AcquisitionCheck(None, None, f"unreadable: {exc.strerror or exc}", (path.name,))
    if sniff_media_type(head).kind is MediaKind.DISK_IMAGE and head.startswith(b"EVF"):
        return _check_ewf(path)
    segments = split_segments(path)
    names = tuple(segment.name for segment in segments)
    digest = hashlib.sha256()
    for segment in segments:
        try:
            with open_local_file(segment) as stream:
                while chunk := stream.read(_EXHIBIT_CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            return AcquisitionCheck(
                None, None, f"unreadable: {segment.name}: {exc.strerror or exc}", names
            )
    status = "computed" if len(names) == 1 else f"computed over {len(names)} segments"
    return AcquisitionCheck(f"sha256:{digest.hexdigest()}", None, status, names)


def _check_ewf(path: Path) -> AcquisitionCheck:
    outcome = verify_ewf(path)
    metadata = outcome.metadata
    stored = metadata.stored_md5 if metadata else None
    value = stored or outcome.computed_md5
    segments = tuple(Path(name).name for name in metadata.segments) if metadata else (path.name,)
    status: str = outcome.status.value
    verified: bool | None = None
    if outcome.status is AcquisitionHashStatus.VERIFIED:
        verified = True
    elif outcome.status is AcquisitionHashStatus.MISMATCH:
        verified = False
        status = f"mismatch: stored md5 {stored}, media now hashes to {outcome.computed_md5}"
    elif outcome.status in (AcquisitionHashStatus.UNREADABLE, AcquisitionHashStatus.DAMAGED):
        verified = False
        status = f"{outcome.status.value}: {outcome.error}"
    return AcquisitionCheck(f"md5:{value}" if value else None, verified, status, segments)


class AcquisitionCheckThread:
    """Runs `check_acquisition` on a thread while the scan goes on (hashlib frees the GIL)."""

    def __init__(self, path: Path) -> None:
        self._result = AcquisitionCheck(None, None, "not run")
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        self._result = check_acquisition(path)

    def result(self) -> AcquisitionCheck:
        """Wait for the check and return it."""
        self._thread.join()
        return self._result
