"""Use case: import, show, export, tune and remove hash lists.

Imports are atomic: the file is streamed into the store inside one transaction, so a
truncated file or a failure half-way leaves the store as it was, and importing a list again
replaces its entries without duplicates. An NSRL RDSv3 database is registered where it lies
and queried in place, never copied (a full set is over 150 GB).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.hash_lists import HashList, ListKind
from safeguard.domain.matches import (
    DEFAULT_PDQ_THRESHOLD,
    check_pdq_threshold,
    effective_pdq_threshold,
)
from safeguard.domain.service import action_field
from safeguard.list_formats.contract import ErrorPolicy, ListMetadata, ReadReport
from safeguard.list_formats.hashdeep import HashdeepWriter, columns_for
from safeguard.list_formats.nsrl import NsrlDatabase, NsrlReader
from safeguard.list_formats.registry import detect_reader, reader_named, writer_named
from safeguard.services.hash_lists.import_watch import ImportWatch
from safeguard.storage.hash_list_store import HashListStore

EXPORT_FORMATS: tuple[str, ...] = (
    "vics",
    "vics-case",
    "csv",
    "tsv",
    "hashdeep",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "te-signals",
)
"""Formats `ListService.export` writes."""

_READER_ALIASES = {"csv": "delimited", "tsv": "delimited", "md5sum": "checksum-text"}

DEFAULT_KIND = ListKind.KNOWN_BAD
"""Kind of a list whose file and caller say nothing: a false alarm is safer than a miss."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did.

    Attributes:
        hash_list: the list as stored.
        format_name: the reader that read the file.
        in_place: True when the list was registered to be queried where it lies (NSRL).
        report: the reader's counters (records, skipped, notes); empty for in-place lists.
    """

    hash_list: HashList
    format_name: str
    in_place: bool = False
    report: ReadReport = field(default_factory=ReadReport)
    overlaps: dict[str, int] = field(default_factory=dict)
    sampled: int = 0

    def duplicate_warning(self) -> str | None:
        """A warning when most sampled entries are also in another list (a double import)."""
        if not self.sampled:
            return None
        names = [n for n, count in self.overlaps.items() if count * 2 >= self.sampled]
        if not names:
            return None
        shown = ", ".join(f"{n!r} ({self.overlaps[n]:,} of {self.sampled:,})" for n in names)
        return (
            f"most sampled entries of {self.hash_list.name!r} are also in {shown}: every such "
            "file will be reported once per list. If it is the same list imported twice, "
            "remove one with `safeguard lists remove NAME`"
        )

    @property
    def counts(self) -> ImportCounts:
        """Read, stored, skipped, ignored and merged records, with their reasons."""
        return ImportCounts.of(self.report, self.hash_list.entry_count)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """Where every record of an imported file went; nothing leaves without a reason.

    ``read == entries + skipped + ignored`` and ``entries == stored + merged``: an entry whose
    digests (its id) repeat an earlier record's is merged into it, not stored twice.

    Attributes:
        read: records seen in the file.
        entries: records that gave an entry.
        stored: entries the list holds after the import.
        skipped: malformed records (lenient import), with the first reasons in `problems`.
        ignored: well-formed records left out on purpose, counted by reason in `reasons`.
        merged: entries that repeated an earlier one (same id) and were merged into it.
        reasons: ignored records by reason.
        notes: remarks about kept records (e.g. metadata kept as text), by kind.
        problems: the first errors behind `skipped`, as text naming file and record.
        ignored_records: the first ignored records, as text naming file, record and reason.
    """

    read: int
    entries: int
    stored: int
    skipped: int
    ignored: int
    merged: int
    reasons: dict[str, int]
    notes: dict[str, int]
    problems: tuple[str, ...]
    ignored_records: tuple[str, ...] = ()

    @classmethod
    def of(cls, report: ReadReport, stored: int) -> ImportCounts:
        """The counts of a finished read whose entries left `stored` entries in the list."""
        return cls(
            read=report.records,
            entries=report.entries,
            stored=stored,
            skipped=report.skipped,
            ignored=report.ignored,
            merged=max(0, report.entries - stored),
            reasons=dict(report.ignored_reasons),
            notes=dict(report.notes),
            problems=tuple(str(problem) for problem in report.problems),
            ignored_records=tuple(str(record) for record in report.ignored_records),
        )

    def as_record(self) -> dict[str, object]:
        """The counts as JSON fields."""
        return {
            "read": self.read,
            "entries": self.entries,
            "stored": self.stored,
            "skipped": self.skipped,
            "ignored": self.ignored,
            "merged": self.merged,
            "ignored_reasons": self.reasons,
            "notes": self.notes,
            "problems": list(self.problems),
            "ignored_records": list(self.ignored_records),
        }


def check_threshold(threshold: int) -> int:
    """Return a PDQ threshold after checking it makes matching meaningful.

    Raises:
        ConfigurationError: outside 0..`MAX_PDQ_THRESHOLD` (see `check_pdq_threshold`).
    """
    check_pdq_threshold(threshold)
    return threshold


class ListService:
    """Hash-list management on one store.

    Args:
        store: where the lists live.
        default_threshold: shown for lists that set no PDQ threshold of their own.
    """

    def __init__(
        self, store: HashListStore, *, default_threshold: int = DEFAULT_PDQ_THRESHOLD
    ) -> None:
        self._store = store
        self.default_threshold = default_threshold

    def import_file(
        self,
        path: Path,
        *,
        name: str | None = None,
        kind: ListKind | None = None,
        format_name: str | None = None,
        source: str | None = None,
        version: str | None = None,
        threshold: int | None = None,
        action: str | list[str] | None = None,
        lenient: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> ImportOutcome:
        """Import the list file at `path`, detecting its format unless `format_name` is given.

        Name, kind, source and version come from the arguments, else from what the file
        states, else from the file name and `DEFAULT_KIND`. An NSRL database is registered
        in place. Re-importing under the same name replaces the entries and keeps the
        list's enabled state, threshold and action unless given here.

        Args:
            path: the list file.
            name: the list's name in the store.
            kind: known-bad, known-good or ignorable.
            format_name: a reader name (`vics`, `csv`, `hashdeep`, `nsrl`, ...).
            source: who issued the list.
            version: the issuer's version.
            threshold: the list's own PDQ threshold.
            action: what a service does on a match: names, or one comma-separated string.
            lenient: skip malformed records (counted in the report) instead of failing.
            on_progress: called with the number of entries read so far, every
                `PROGRESS_EVERY` entries (for a progress display).

        Raises:
            ListFormatError: the file is not in the format, or (strict) a record is malformed;
                the store is then unchanged.
            ConfigurationError: a threshold beyond `MAX_PDQ_THRESHOLD`, an unknown action
                or an unknown format name.
        """
        if threshold is not None:
            check_threshold(threshold)
        # Checked before anything is stored: an unknown action must never reach the store.
        checked_action = action_field(action)
        reader = (
            reader_named(_READER_ALIASES.get(format_name, format_name))
            if format_name
            else detect_reader(path)
        )
        if reader.name == NsrlReader.name:
            with NsrlDatabase(path) as database:
                metadata = database.metadata()
            hash_list = self._list_for(path, metadata, name, kind, source, version, threshold)
            stored = self._store.register_reference_list(hash_list, str(path.resolve()))
            return ImportOutcome(stored, reader.name, in_place=True)
        policy = ErrorPolicy.LENIENT if lenient else ErrorPolicy.STRICT
        with reader.read(path, errors=policy) as parsed:
            hash_list = self._list_for(
                path, parsed.metadata, name, kind, source, version, threshold, checked_action
            )
            watch = ImportWatch(on_progress)
            stored = self._store.import_list(hash_list, watch.entries(parsed.entries))
        overlaps = self._overlaps(stored.name, watch.sample)
        return ImportOutcome(
            stored, reader.name, report=parsed.report, overlaps=overlaps, sampled=watch.sampled
        )

    def _overlaps(self, name: str, wanted: dict[HashAlgorithm, list[str]]) -> dict[str, int]:
        """How many of the `wanted` digests each other list holds (see `duplicate_warning`)."""
        found: dict[str, set[str]] = {}
        for algorithm, values in wanted.items():
            for stored in self._store.find_exact(algorithm, values):
                if stored.hash_list.name != name:
                    value = stored.entry.digests.get(algorithm, "")
                    found.setdefault(stored.hash_list.name, set()).add(value.lower())
        return {other: len(values) for other, values in sorted(found.items())}

    @staticmethod
    def _list_for(
        path: Path,
        metadata: ListMetadata,
        name: str | None,
        kind: ListKind | None,
        source: str | None,
        version: str | None,
        threshold: int | None,
        action: str | None = None,
    ) -> HashList:
        return HashList(
            name=name or metadata.suggested_name or path.stem,
            kind=kind or metadata.suggested_kind or DEFAULT_KIND,
            source=source if source is not None else metadata.source,
            version=version if version is not None else metadata.version,
            pdq_threshold=threshold,
            action=action,
        )

    def lists(self) -> list[HashList]:
        """Every list, by name."""
        return self._store.all_lists()

    def locations(self) -> dict[str, str]:
        """Where each list queried in place (NSRL) lies, by list name."""
        return {ref.hash_list.name: ref.location for ref in self._store.reference_lists()}

    def get(self, name: str) -> HashList:
        """The list with this name.

        Raises:
            NotFoundError: no such list.
        """
        return self._store.get_list(name)

    def threshold_of(self, hash_list: HashList) -> int:
        """The PDQ threshold that applies to `hash_list` (a stored one capped)."""
        return effective_pdq_threshold(hash_list.pdq_threshold, self.default_threshold)

    def export(
        self,
        name: str,
        path: Path,
        format_name: str,
        *,
        algorithms: Sequence[HashAlgorithm] | None = None,
    ) -> int:
        """Write the list's entries to `path` in `format_name` (one of `EXPORT_FORMATS`).

        The file appears complete or not at all (written beside it, then renamed). A hashdeep
        file's columns are `algorithms` when given, else those every entry has (found in a
        first pass over the store), so real hashdeep never meets an empty hash field.

        Returns:
            The number of entries written (entries the format cannot hold are left out).

        Raises:
            NotFoundError: no such list.
            ConfigurationError: an unknown format, or hash columns for another format.
        """
        if format_name not in EXPORT_FORMATS:
            raise ConfigurationError(
                f"cannot export as {format_name!r}; choose from {', '.join(EXPORT_FORMATS)}"
            )
        hash_list = self._store.get_list(name)
        writer = writer_named(format_name)
        if format_name == HashdeepWriter.name:
            try:
                writer = HashdeepWriter(algorithms or columns_for(self._store.iter_entries(name)))
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from exc
        elif algorithms:
            raise ConfigurationError("hash columns are chosen for hashdeep exports only")
        metadata = ListMetadata(
            format_name=writer.name,
            source=hash_list.source,
            version=hash_list.version,
            suggested_name=hash_list.name,
            suggested_kind=hash_list.kind,
        )
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        try:
            if writer.binary:
                with partial.open("wb") as binary:
                    written = writer.write(self._store.iter_entries(name), binary, metadata)
            else:
                with partial.open("w", encoding="utf-8", newline="") as text:
                    written = writer.write(self._store.iter_entries(name), text, metadata)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return written

    def remove(self, name: str) -> None:
        """Delete a list and its entries (a reference list's file is left alone).

        Raises:
            NotFoundError: no such list.
        """
        self._store.remove_list(name)

    def set_enabled(self, name: str, enabled: bool) -> HashList:
        """Enable or disable matching against a list; disabled lists are kept."""
        return self._store.update_list(name, enabled=enabled)

    def set_threshold(self, name: str, threshold: int) -> HashList:
        """Set the list's own PDQ threshold.

        Raises:
            ConfigurationError: outside 0..`MAX_PDQ_THRESHOLD`.
        """
        return self._store.update_list(name, pdq_threshold=check_threshold(threshold))

    def set_action(self, name: str, action: str | list[str]) -> HashList:
        """Set what a service does on a match against this list (empty clears it).

        Raises:
            ConfigurationError: an unknown action name.
        """
        return self._store.update_list(name, action=action_field(action) or "")
