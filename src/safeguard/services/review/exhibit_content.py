"""Reading chosen files back from an exhibit, read-only, as triage reads it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from safeguard.domain.cases import Exhibit
from safeguard.domain.errors import EvidenceError, NotFoundError
from safeguard.extraction.contract import EvidenceItem, ExtractionLimits
from safeguard.extraction.streams import open_local_file

ExhibitOpener = Callable[[Path, ExtractionLimits], Iterator[EvidenceItem]]

MAX_ITEM_BYTES = 512 * 1024 * 1024
"""Files larger than this are not read for thumbnails (videos included)."""


class ExhibitContent:
    """Reads files of an exhibit by their path inside it.

    Plain files of folder exhibits are remembered by their real path after one walk, so
    later reads open them directly (read-only, without touching access times); files inside
    containers are found by walking the exhibit again and stopping at the last one wanted.
    """

    def __init__(self, open_exhibit: ExhibitOpener, limits: ExtractionLimits | None = None) -> None:
        self._open_exhibit = open_exhibit
        self._limits = limits or ExtractionLimits()
        self._lock = threading.Lock()
        self._local: dict[int, dict[str, Path]] = {}

    def read_many(self, exhibit: Exhibit, paths: set[str]) -> dict[str, bytes]:
        """The content of each path found (missing or unreadable paths are left out)."""
        found: dict[str, bytes] = {}
        wanted = set(paths)
        local = self._local.get(exhibit.exhibit_id)
        if local is not None:
            for path in list(wanted):
                real = local.get(path)
                if real is not None:
                    with open_local_file(real) as stream:
                        found[path] = stream.read(MAX_ITEM_BYTES + 1)
                    wanted.discard(path)
            if not wanted:
                return {p: d for p, d in found.items() if len(d) <= MAX_ITEM_BYTES}
        seen_local: dict[str, Path] = {}
        for item in self._open_exhibit(Path(exhibit.source_path), self._limits):
            if item.local_path is not None:
                seen_local[item.path] = item.local_path
            if item.path in wanted and item.readable and item.size <= MAX_ITEM_BYTES:
                try:
                    with item.open() as stream:
                        found[item.path] = stream.read(MAX_ITEM_BYTES + 1)
                except (OSError, EvidenceError):
                    pass
                wanted.discard(item.path)
                if not wanted and local is not None:
                    break
        if local is None:
            with self._lock:
                self._local[exhibit.exhibit_id] = seen_local
        return {p: d for p, d in found.items() if len(d) <= MAX_ITEM_BYTES}

    def iter_contents(self, exhibit: Exhibit, paths: set[str]) -> Iterator[tuple[str, bytes]]:
        """Walk the exhibit once and yield (path, content) for each wanted, readable file."""
        for item in self._open_exhibit(Path(exhibit.source_path), self._limits):
            if item.path in paths and item.readable and item.size <= MAX_ITEM_BYTES:
                try:
                    with item.open() as stream:
                        data = stream.read(MAX_ITEM_BYTES + 1)
                except (OSError, EvidenceError):
                    continue
                if len(data) <= MAX_ITEM_BYTES:
                    yield item.path, data

    def read(self, exhibit: Exhibit, path: str) -> bytes:
        """The content of one file.

        Raises:
            NotFoundError: the exhibit has no readable file at `path`.
        """
        data = self.read_many(exhibit, {path}).get(path)
        if data is None:
            raise NotFoundError(f"{path!r} cannot be read from exhibit {exhibit.reference}")
        return data
