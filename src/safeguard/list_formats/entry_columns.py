"""Entries in column batches: how a large list travels from a reader to a store.

A million `HashEntry` objects cost more to build (and to take apart again for the database)
than reading the file and writing the rows together. A reader that can read a format
straight into columns (the plain ``id,pdq`` CSV) hands over `EntryColumns` batches instead,
wrapped in `ColumnarEntries`; a store that writes columns takes them as they are, any other
consumer iterates `ColumnarEntries` and gets ordinary `HashEntry` values.

Column names are those of the store's entry rows: ``entry_id``, the digest columns of
`DIGEST_COLUMN`, the three category columns, the provenance fields, ``file_name`` and
``size``. A column left out of a batch holds its `COLUMN_DEFAULTS` value in every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import cast

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import UNCATEGORISED, Category, HashEntry, Provenance
from safeguard.list_formats.contract import ReadReport

DIGEST_COLUMN: Mapping[HashAlgorithm, str] = {
    HashAlgorithm.MD5: "md5",
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.SHA256: "sha256",
    HashAlgorithm.PDQ: "pdq",
    HashAlgorithm.PHOTODNA: "photodna",
}
"""The column of each digest algorithm."""

COLUMN_DEFAULTS: Mapping[str, object] = {
    "entry_id": None,
    **dict.fromkeys(DIGEST_COLUMN.values()),
    "category_scheme": UNCATEGORISED.scheme,
    "category_code": UNCATEGORISED.code,
    "category_label": UNCATEGORISED.label,
    **dict.fromkeys(
        (
            "source_record_id",
            "series",
            "victim_identified",
            "first_seen",
            "last_seen",
            "notes",
            "file_name",
            "size",
        )
    ),
}
"""Every column, in row order, with the value a column left out of a batch holds."""

BATCH_ROWS = 50_000
"""Entries per batch: large enough to amortise a database round trip, a few MB in memory."""

_EMPTY_PROVENANCE = Provenance()


@dataclass(frozen=True, slots=True)
class EntryColumns:
    """A batch of entries as columns of equal length.

    Attributes:
        rows: the number of entries.
        columns: column name (a key of `COLUMN_DEFAULTS`) -> one value per entry; ``entry_id``
            is always present. Digests are canonical (`normalise_digest`), dates are `date`
            values, ``victim_identified`` a bool or None, ``size`` an int or None.
        records: the record (line) number in the source of each row, when a reader knows
            them; a reader's caller that takes entries one at a time sees each entry's own
            number in its report's ``last_record`` (`ColumnarEntries`).
    """

    rows: int
    columns: Mapping[str, Sequence[object]]
    records: Sequence[int] | None = None

    @classmethod
    def of_entries(
        cls, entries: Sequence[HashEntry], records: Sequence[int] | None = None
    ) -> EntryColumns:
        """The batch holding `entries`, leaving out columns at their default in every row.

        `records` are the entries' record numbers in their source, when known.
        """
        columns: dict[str, list[object]] = {name: [] for name in COLUMN_DEFAULTS}
        entry_ids = columns["entry_id"]
        digest_columns = [(algorithm, columns[name]) for algorithm, name in DIGEST_COLUMN.items()]
        schemes, codes, labels = (
            columns["category_scheme"],
            columns["category_code"],
            columns["category_label"],
        )
        record_ids, series, victims = (
            columns["source_record_id"],
            columns["series"],
            columns["victim_identified"],
        )
        firsts, lasts, notes = columns["first_seen"], columns["last_seen"], columns["notes"]
        names, sizes = columns["file_name"], columns["size"]
        for entry in entries:
            entry_ids.append(entry.entry_id)
            digests = entry.digests
            for algorithm, column in digest_columns:
                column.append(digests.get(algorithm))
            category, provenance = entry.category, entry.provenance
            schemes.append(category.scheme)
            codes.append(category.code)
            labels.append(category.label)
            record_ids.append(provenance.source_record_id)
            series.append(provenance.series)
            victims.append(provenance.victim_identified)
            firsts.append(provenance.first_seen)
            lasts.append(provenance.last_seen)
            notes.append(provenance.notes)
            names.append(entry.file_name)
            sizes.append(entry.size)
        return cls.of_columns(len(entry_ids), columns, records)

    @classmethod
    def of_columns(
        cls,
        rows: int,
        columns: Mapping[str, Sequence[object]],
        records: Sequence[int] | None = None,
    ) -> EntryColumns:
        """A batch of `rows` entries from full columns, leaving out those at their default.

        Raises:
            ValueError: an unknown column name, no ``entry_id`` column, or a column (or
                `records`) whose length is not `rows`.
        """
        kept: dict[str, Sequence[object]] = {}
        for name, values in columns.items():
            if name not in COLUMN_DEFAULTS:
                raise ValueError(f"no entry column named {name!r}")
            if len(values) != rows:
                raise ValueError(f"column {name!r} holds {len(values)} values, not {rows}")
            default = COLUMN_DEFAULTS[name]
            # `count` compares in C: a column at its default in every row is not sent.
            if name == "entry_id" or values.count(default) != rows:
                kept[name] = values
        if "entry_id" not in kept:
            raise ValueError("a batch of entries needs the entry_id column")
        if records is not None and len(records) != rows:
            raise ValueError(f"{len(records)} record numbers for {rows} rows")
        return cls(rows, kept, records)

    def entries(self) -> Iterator[HashEntry]:
        """The batch as `HashEntry` values, in order."""
        columns = self.columns
        digest_columns = [
            (algorithm, columns[name])
            for algorithm, name in DIGEST_COLUMN.items()
            if name in columns
        ]

        def column(name: str) -> Sequence[object]:
            return columns.get(name) or [COLUMN_DEFAULTS[name]] * self.rows

        plain_category = not any(
            name in columns for name in ("category_scheme", "category_code", "category_label")
        )
        provenance_names = (
            "source_record_id",
            "series",
            "victim_identified",
            "first_seen",
            "last_seen",
            "notes",
        )
        plain_provenance = not any(name in columns for name in provenance_names)
        scheme, code, label = (
            column(name) for name in ("category_scheme", "category_code", "category_label")
        )
        records, series, victims, firsts, lasts, notes = (column(name) for name in provenance_names)
        names, sizes = column("file_name"), column("size")
        for row, entry_id in enumerate(columns["entry_id"]):
            digests = {
                algorithm: cast(str, values[row])
                for algorithm, values in digest_columns
                if values[row] is not None
            }
            category = (
                UNCATEGORISED
                if plain_category
                else Category(cast(str, scheme[row]), cast(str, code[row]), cast(str, label[row]))
            )
            provenance = (
                _EMPTY_PROVENANCE
                if plain_provenance
                else Provenance(
                    source_record_id=cast("str | None", records[row]),
                    series=cast("str | None", series[row]),
                    victim_identified=cast("bool | None", victims[row]),
                    first_seen=cast("date | None", firsts[row]),
                    last_seen=cast("date | None", lasts[row]),
                    notes=cast("str | None", notes[row]),
                )
            )
            yield HashEntry(
                entry_id=cast(str, entry_id),
                digests=digests,
                category=category,
                provenance=provenance,
                file_name=cast("str | None", names[row]),
                size=cast("int | None", sizes[row]),
            )


class ColumnarEntries(Iterator[HashEntry]):
    """Entries that arrive as `EntryColumns` batches: one pass, as entries or as batches.

    A store that writes columns takes `batches`; anything else iterates the entries. Either
    way the batches are read once; `close` closes their source (the reader's file). Taken
    one entry at a time, each entry's record number is set as `report`'s ``last_record``
    just before the entry is returned, as a row-by-row reader does.
    """

    def __init__(self, batches: Iterator[EntryColumns], report: ReadReport | None = None) -> None:
        self._batches = batches
        self._report = report
        self._entries: Iterator[HashEntry] | None = None

    def batches(self) -> Iterator[EntryColumns]:
        """The batches not read yet, in order."""
        return self._batches

    def __next__(self) -> HashEntry:
        if self._entries is None:
            self._entries = self._numbered()
        return next(self._entries)

    def _numbered(self) -> Iterator[HashEntry]:
        report = self._report
        for batch in self._batches:
            if report is None or batch.records is None:
                yield from batch.entries()
                continue
            at_end = report.last_record
            for number, entry in zip(batch.records, batch.entries(), strict=True):
                report.last_record = number
                yield entry
            report.last_record = max(at_end, report.last_record)

    def close(self) -> None:
        """Close the batches' source now rather than when it is collected; iteration ends."""
        self._entries = iter(())
        close = getattr(self._batches, "close", None)
        if close is not None:
            close()


def column_batches(entries: Iterable[HashEntry], size: int = BATCH_ROWS) -> Iterator[EntryColumns]:
    """`entries` in batches of `size` (the batches of a `ColumnarEntries` as they are)."""
    if isinstance(entries, ColumnarEntries):
        yield from entries.batches()
        return
    iterator = iter(entries)
    while chunk := list(islice(iterator, size)):
        yield EntryColumns.of_entries(chunk)
