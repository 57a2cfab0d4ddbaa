"""Where `MatchService` keeps its indexes between runs: a folder per save, a pointer file.

Layout under the index folder (``<data_dir>/index``), for each kind of index (``pdq`` for
the PDQ index, ``exact`` for the exact-digest index)::

    <kind>-<store identity>.json          {"revision": R, "directory": "<kind>-<identity>-r<R>-<pid>"}
    <kind>-<store identity>-r<R>-<pid>/   what the index's ``save`` wrote at revision R

Keying by the store's identity keeps the indexes of different databases apart. The pointer
is replaced in one rename after the folder is complete, so a reader always gets a whole
index whose revision it knows; older folders are then removed (a process that still maps
one keeps its open files).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
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
            index = self._load_index(self._pointer.parent / str(state["directory"]))
            return index, int(state["revision"])
        except (OSError, ValueError, KeyError, TypeError, SafeguardError) as exc:
            # A damaged or foreign save only costs a rebuild.
            logger.warning(
                "saved %s index not usable (%s); rebuilding", self._kind, type(exc).__name__
            )
            return None

    def save(self, index: IndexT, revision: int) -> bool:
        """Save `index` as reflecting `revision`; False (and a warning) when it could not be."""
        stem = self._pointer.stem
        folder = self._pointer.parent
        directory = folder / f"{stem}-r{revision}-{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if directory.exists():
                shutil.rmtree(directory)
            index.save(directory)
            temporary = self._pointer.with_name(f"{self._pointer.name}.{os.getpid()}.tmp")
            temporary.write_text(
                json.dumps({"revision": revision, "directory": directory.name}), encoding="utf-8"
            )
            os.replace(temporary, self._pointer)
        except OSError as exc:
            logger.warning("could not save the %s index (%s)", self._kind, type(exc).__name__)
            return False
        for old in folder.glob(f"{stem}-r*"):
            if old != directory and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        return True
