"""Where `MatchService` keeps its indexes between runs: a folder per save, a pointer file.

Layout under the index folder (``<data_dir>/index``), for each kind of index (``pdq`` for
the PDQ index, ``exact`` for the exact-digest index)::

    <kind>-<store identity>.json          {"revision": R, "directory": "<kind>-<identity>-r<R>-<pid>"}
    <kind>-<store identity>-r<R>-<pid>/   what the index's ``save`` wrote at revision R

Keying by the store's identity keeps the indexes of different databases apart. The pointer
is replaced in one rename after the folder is complete, so a reader always gets a whole
index whose revision it knows; older folders are then removed (a process that still maps
one keeps its open files).

**Crash safety.** Every file of a save is flushed to disk (``fsync``) and its SHA-256 is
written to ``checksums.json`` in the folder before the pointer moves (itself written,
fsynced and renamed, then the folder fsynced). `load` verifies every checksum before using
a save; a save that fails (a crash can leave files of the right size full of zeros) is
reported and rebuilt from the store instead of silently serving wrong answers.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from safeguard.domain.errors import SafeguardError
from safeguard.matching.contract import PerceptualIndex

logger = logging.getLogger(__name__)

IndexLoader = Callable[[Path], PerceptualIndex]
"""Loads an index that `PerceptualIndex.save` wrote."""


class SaveableIndex(Protocol):
    """An index that writes itself to a folder (`PerceptualIndex`, `ExactDigestIndex`)."""

    def save(self, directory: Path) -> None:
        """Write the index under `directory`."""
        ...


IndexT = TypeVar("IndexT", bound=SaveableIndex)


class SavedIndexes(Generic[IndexT]):
    """Saves and loads one store's index of one kind under `folder`.

    Args:
        folder: the index folder.
        identity: the store's identity (`HashListStore.store_identity`).
        load_index: reads a saved index folder.
        kind: names the files, so that several kinds of index share the folder.
    """

    def __init__(
        self, folder: Path, identity: str, load_index: Callable[[Path], IndexT], kind: str = "pdq"
    ) -> None:
        self._pointer = folder / f"{kind}-{identity}.json"
        self._kind = kind
        self._load_index = load_index

    def load(self) -> tuple[IndexT, int] | None:
        """The saved index and the revision it reflects, or None when there is no usable save."""
        if not self._pointer.is_file():
            return None
        try:
            state = json.loads(self._pointer.read_text(encoding="utf-8"))
            directory = self._pointer.parent / str(state["directory"])
            bad = _failed_checksums(directory)
            if bad:
                logger.warning(
                    "saved %s index fails its checksums (%s); rebuilding", self._kind, bad
                )
                return None
            index = self._load_index(directory)
            return index, int(state["revision"])
        except (OSError, ValueError, KeyError, TypeError, SafeguardError) as exc:
            # A damaged or foreign save only costs a rebuild.
            logger.warning(
                "saved %s index not usable (%s); rebuilding", self._kind, type(exc).__name__
            )
            return None

    def save(self, index: IndexT, revision: int) -> bool:
        """Save `index` as reflecting `revision`; False (and a warning) when it could not be.

        Several processes (service workers) may save at once. The folder is written outside
        any lock; the pointer is then moved under a file lock, only forward (a save older than
        the current pointer is dropped), and only folders older than the pointer's are removed,
        so no process deletes the folder another has just published or is still writing.
        """
        stem = self._pointer.stem
        folder = self._pointer.parent
        directory = folder / f"{stem}-r{revision}-{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if directory.exists():
                shutil.rmtree(directory)
            index.save(directory)
            _seal(directory)
            with self._pointer_lock():
                current = self._current()
                if current is not None and current[0] >= revision and current[1] != directory.name:
                    # Another process published this revision or a newer one first.
                    shutil.rmtree(directory, ignore_errors=True)
                    return True
                temporary = self._pointer.with_name(f"{self._pointer.name}.{os.getpid()}.tmp")
                _write_synced(
                    temporary,
                    json.dumps({"revision": revision, "directory": directory.name}).encode(),
                )
                os.replace(temporary, self._pointer)
                _sync_folder(folder)
                for old in folder.glob(f"{stem}-r*"):
                    older = _revision_of(old.name, stem)
                    if old != directory and old.is_dir() and older is not None and older < revision:
                        shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            logger.warning("could not save the %s index (%s)", self._kind, type(exc).__name__)
            return False
        return True

    def _current(self) -> tuple[int, str] | None:
        try:
            state = json.loads(self._pointer.read_text(encoding="utf-8"))
            return int(state["revision"]), str(state["directory"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @contextmanager
    def _pointer_lock(self) -> Iterator[None]:
        lock_path = self._pointer.with_name(self._pointer.name + ".lock")
        with lock_path.open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _revision_of(name: str, stem: str) -> int | None:
    """The revision in a saved folder's name ``<stem>-r<R>-<pid>``, or None for other names."""
    match = re.fullmatch(re.escape(stem) + r"-r(\d+)-\d+", name)
    return int(match.group(1)) if match else None


CHECKSUMS = "checksums.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _seal(directory: Path) -> None:
    """Flush every file of a save to disk and record their checksums (see module notes)."""
    sums: dict[str, str] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
        sums[path.relative_to(directory).as_posix()] = _sha256(path)
    _write_synced(directory / CHECKSUMS, json.dumps(sums, sort_keys=True).encode())
    _sync_folder(directory)


def _failed_checksums(directory: Path) -> str | None:
    """None when every file matches ``checksums.json``; else what is wrong (a short text)."""
    try:
        sums = json.loads((directory / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no checksums"
    if not isinstance(sums, dict) or not sums:
        return "no checksums"
    for name, expected in sums.items():
        path = directory / str(name)
        try:
            if _sha256(path) != expected:
                return f"{name} changed"
        except OSError:
            return f"{name} missing"
    return None
