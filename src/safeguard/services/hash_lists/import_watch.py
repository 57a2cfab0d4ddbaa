"""Watching a list import's entries on their way to the store: progress and a sample."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats.entry_columns import DIGEST_COLUMN, ColumnarEntries, EntryColumns

OVERLAP_SAMPLE = 200
"""Entries of a newly imported list looked up in the other lists to spot a double import."""

PROGRESS_EVERY = 10_000
"""Entries between two progress reports of an import."""


class ImportWatch:
    """Watches entries on their way to the store: progress, and a sample for `ListService._overlaps`.

    The sample is the first `OVERLAP_SAMPLE` cryptographic digests of the file (one per
    entry, SHA-256 before SHA-1 before MD5), taken as the entries pass, so spotting a double
    import never reads the stored list back.
    """

    _SAMPLED = (HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5)

    def __init__(self, on_progress: Callable[[int], None] | None) -> None:
        self._on_progress = on_progress
        self.sample: dict[HashAlgorithm, list[str]] = {}
        self.sampled = 0

    def entries(self, entries: Iterator[HashEntry]) -> Iterator[HashEntry]:
        """`entries`, watched (batches stay batches for a store that writes columns)."""
        if isinstance(entries, ColumnarEntries):
            return ColumnarEntries(self._batches(entries.batches()))
        return self._entries(entries)

    def _entries(self, entries: Iterator[HashEntry]) -> Iterator[HashEntry]:
        count = 0
        for count, entry in enumerate(entries, start=1):
            if self.sampled < OVERLAP_SAMPLE:
                digests = entry.digests
                self._take((algorithm, digests.get(algorithm)) for algorithm in self._SAMPLED)
            yield entry
            if count % PROGRESS_EVERY == 0:
                self._progress(count)
        self._progress(count)

    def _batches(self, batches: Iterator[EntryColumns]) -> Iterator[EntryColumns]:
        count = 0
        mark = PROGRESS_EVERY
        for batch in batches:
            columns = [
                (algorithm, batch.columns[DIGEST_COLUMN[algorithm]])
                for algorithm in self._SAMPLED
                if DIGEST_COLUMN[algorithm] in batch.columns
            ]
            for row in range(batch.rows if columns else 0):
                if self.sampled >= OVERLAP_SAMPLE:
                    break
                self._take((algorithm, values[row]) for algorithm, values in columns)
            count += batch.rows
            yield batch
            # The same reports as entry by entry, each `PROGRESS_EVERY` entries passed.
            for passed in range(mark, count + 1, PROGRESS_EVERY):
                self._progress(passed)
            mark = count - count % PROGRESS_EVERY + PROGRESS_EVERY
        self._progress(count)

    def _take(self, digests: Iterable[tuple[HashAlgorithm, object]]) -> None:
        """Sample the first digest present of (algorithm, value or None) in sample order."""
        for algorithm, value in digests:
            if value:
                self.sample.setdefault(algorithm, []).append(str(value))
                self.sampled += 1
                return

    def _progress(self, count: int) -> None:
        if self._on_progress is not None:
            self._on_progress(count)
