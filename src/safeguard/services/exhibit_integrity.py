"""Integrity of a whole exhibit: its acquisition hash (E01 verified) and a manifest hash."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from safeguard.domain.cases import FileResult
from safeguard.domain.media import MediaKind, sniff_media_type
from safeguard.extraction.ewf import AcquisitionHashStatus, verify_ewf

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


def exhibit_size(path: Path) -> int | None:
    """Bytes in the exhibit (file size, or the sum over a folder's files), for an ETA."""
    try:
        if path.is_file():
            return path.stat().st_size
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
            else ``sha256:<hex>`` of the exhibit file; None when unreadable.
        verified: True/False when an E01 set's stored hash was compared; None otherwise.
        status: in words: ``verified``, ``mismatch``, ``not stored``, ``unreadable``, ``computed``.
    """

    acquisition_hash: str | None
    verified: bool | None
    status: str


def check_acquisition(path: Path) -> AcquisitionCheck:
    """Hash an exhibit file (reading it once, read-only); verify E01 sets against their record."""
    try:
        with path.open("rb") as stream:
            head = stream.read(64)
    except OSError as exc:
        return AcquisitionCheck(None, None, f"unreadable: {exc.strerror or exc}")
    if sniff_media_type(head).kind is MediaKind.DISK_IMAGE and head.startswith(b"EVF"):
        return _check_ewf(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_EXHIBIT_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        return AcquisitionCheck(None, None, f"unreadable: {exc.strerror or exc}")
    return AcquisitionCheck(f"sha256:{digest.hexdigest()}", None, "computed")


def _check_ewf(path: Path) -> AcquisitionCheck:
    outcome = verify_ewf(path)
    stored = outcome.metadata.stored_md5 if outcome.metadata else None
    value = stored or outcome.computed_md5
    verified = {
        AcquisitionHashStatus.VERIFIED: True,
        AcquisitionHashStatus.MISMATCH: False,
    }.get(outcome.status)
    return AcquisitionCheck(f"md5:{value}" if value else None, verified, outcome.status.value)


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
