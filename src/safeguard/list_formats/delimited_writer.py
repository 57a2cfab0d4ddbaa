"""CSV / TSV writing: one header row of `WRITER_COLUMNS`, then one row per entry.

The columns are those `safeguard.list_formats.delimited.DelimitedReader` reads back into the
same entries; see docs/list-formats.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import BinaryIO, TextIO, cast

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats.contract import ListMetadata

_WRITER_DIGESTS = (
    HashAlgorithm.MD5,
    HashAlgorithm.SHA1,
    HashAlgorithm.SHA256,
    HashAlgorithm.PDQ,
    HashAlgorithm.PHOTODNA,
)
WRITER_COLUMNS = (
    "id",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "photodna",
    "category_scheme",
    "category",
    "category_label",
    "file_name",
    "size",
    "series",
    "victim_identified",
    "first_seen",
    "last_seen",
    "source_record_id",
    "notes",
)


class DelimitedWriter:
    """Writer for CSV (or TSV) with the columns in `WRITER_COLUMNS`, read back by `DelimitedReader`.

    Absent values are empty cells; `UNCATEGORISED` is an empty scheme and category.

    Args:
        delimiter: "," for CSV, a tab for TSV.
    """

    binary = False

    def __init__(self, delimiter: str = ",") -> None:
        self.delimiter = delimiter
        self.name = "tsv" if delimiter == "\t" else "csv"

    def write(
        self, entries: Iterable[HashEntry], stream: TextIO | BinaryIO, metadata: ListMetadata
    ) -> int:
        """Write the header row, then one row per entry; returns the number of rows."""
        out = cast(TextIO, stream)
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\n")
        # With a "\n" terminator the csv module quotes a newline but not a lone "\r", which
        # readers (ours included) then take for the end of the record: such rows are written
        # with every cell quoted.
        quoting_all = csv.writer(
            out, delimiter=self.delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL
        )
        writer.writerow(WRITER_COLUMNS)
        count = 0
        for entry in entries:
            row = _entry_row(entry)
            (quoting_all if any("\r" in cell for cell in row) else writer).writerow(row)
            count += 1
        return count


def _entry_row(entry: HashEntry) -> list[str]:
    digests = entry.digests
    category = entry.category
    provenance = entry.provenance
    uncategorised = category.is_uncategorised

    def text(value: object) -> str:
        return "" if value is None else str(value)

    victim = provenance.victim_identified
    return [
        entry.entry_id,
        *(digests.get(algorithm, "") for algorithm in _WRITER_DIGESTS),
        "" if uncategorised else category.scheme,
        "" if uncategorised else category.code,
        "" if uncategorised else category.label,
        text(entry.file_name),
        text(entry.size),
        text(provenance.series),
        "" if victim is None else str(victim).lower(),
        text(provenance.first_seen and provenance.first_seen.isoformat()),
        text(provenance.last_seen and provenance.last_seen.isoformat()),
        text(provenance.source_record_id),
        text(provenance.notes),
    ]
