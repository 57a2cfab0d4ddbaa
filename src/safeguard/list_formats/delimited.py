"""CSV / TSV lists whose header names the columns; also the threatexchange / HMA PDQ CSVs.

The delimiter (comma, tab, semicolon or pipe) is taken from the header line. Column names are
matched case-insensitively, ignoring spaces, hyphens and underscores, so ``SHA-1``, ``sha_1`` and
``Sha1`` are one column. A column pair of value and type (``signal_type,signal_str`` from
``threatexchange dataset --csv``, ``type,indicator`` from the ThreatExchange API query export,
``hash_type,hash``) gives the algorithm per row; rows of signal types that are not hashes
(url, raw_text, ...) are ignored and counted. Unknown columns are read past and listed in the
metadata. See docs/list-formats.md for every column name. `DelimitedWriter`
(`safeguard.list_formats.delimited_writer`) writes CSV and TSV that this reader reads back.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from safeguard.domain.digests import HEX_LENGTHS, HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import PROJECT_VIC, HashEntry, Provenance
from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ParsedList,
    ReadReport,
    derived_entry_id,
)
from safeguard.list_formats.delimited_rows import numbered_rows, plain_columns
from safeguard.list_formats.entry_columns import ColumnarEntries
from safeguard.list_formats.record_parsing import (
    IgnoredRecord,
    PlaceholderPhotoDnaError,
    RecordError,
    category_in_scheme,
    guard_records,
    parse_digest,
    soft_bool,
    soft_date,
    soft_size,
    with_unread,
)

THREATEXCHANGE_SCHEME = "threatexchange"
"""Scheme of threatexchange opinion categories (POSITIVE_CLASS, INVESTIGATION_SEED, ...)."""

_DIGEST_COLUMNS: Mapping[str, HashAlgorithm] = {
    **dict.fromkeys(("md5", "md5hash", "hashmd5", "md5sum"), HashAlgorithm.MD5),
    **dict.fromkeys(("sha1", "sha1hash", "hashsha1"), HashAlgorithm.SHA1),
    **dict.fromkeys(("sha256", "sha256hash", "hashsha256"), HashAlgorithm.SHA256),
    **dict.fromkeys(("pdq", "pdqhash", "hashpdq"), HashAlgorithm.PDQ),
    **dict.fromkeys(("photodna", "pdna", "photodnahash"), HashAlgorithm.PHOTODNA),
}
# (value column, type column) pairs; the first pair present in the header wins.
_TYPED_PAIRS = (
    ("signalstr", "signaltype"),
    ("indicator", "type"),
    ("hash", "hashtype"),
    ("hash", "algorithm"),
    ("hashvalue", "hashname"),
)
_TYPE_NAMES: Mapping[str, HashAlgorithm] = {
    **dict.fromkeys(("md5", "hashmd5", "videomd5", "hashvideomd5", "vmd5"), HashAlgorithm.MD5),
    **dict.fromkeys(("sha1", "hashsha1"), HashAlgorithm.SHA1),
    **dict.fromkeys(
        ("sha256", "hashsha256", "videosha256", "hashvideosha256"), HashAlgorithm.SHA256
    ),
    **dict.fromkeys(("pdq", "hashpdq"), HashAlgorithm.PDQ),
    **dict.fromkeys(("photodna", "pdna", "hashphotodna"), HashAlgorithm.PHOTODNA),
}
_FIELD_COLUMNS: Mapping[str, str] = {
    **dict.fromkeys(("id", "entryid", "mediaid", "imageid", "recordid"), "id"),
    **dict.fromkeys(("category", "cat", "grade", "classification"), "category"),
    **dict.fromkeys(("categoryscheme", "scheme"), "scheme"),
    **dict.fromkeys(("filename", "name", "path", "file", "filepath"), "file_name"),
    **dict.fromkeys(("size", "filesize", "mediasize", "bytes"), "size"),
    **dict.fromkeys(("series", "seriesname"), "series"),
    **dict.fromkeys(("victimidentified", "victimid"), "victim_identified"),
    **dict.fromkeys(("firstseen", "addedon", "dateadded", "added"), "first_seen"),
    **dict.fromkeys(("lastseen", "lastupdated", "dateupdated", "updated"), "last_seen"),
    **dict.fromkeys(("sourcerecordid", "indicatorid"), "source_record_id"),
    **dict.fromkeys(("notes", "comments", "comment", "description"), "notes"),
    **dict.fromkeys(("status", "opinion"), "status"),
    **dict.fromkeys(("tags", "collab", "collaboration", "owner", "ownerid"), "note_part"),
}
_DERIVED_COLUMNS = frozenset({"categorylabel", "quality", "pdqquality"})
NEGATIVE_OPINIONS = frozenset({"negativeclass", "disputed", "nonmalicious", "falsepositive"})
"""Opinions (threatexchange categories, statuses and tags, keys as `_column_key` makes them)
that say a signal does not belong in the list: threatexchange never treats these as positive
matches, so Safeguard does not import them as known-bad."""


def negative_opinion(*values: str | None) -> str | None:
    """The first negative opinion among category, status and tag values, or None.

    Tags may be several words separated by spaces or commas (threatexchange joins them with
    spaces).
    """
    for value in values:
        for word in re.split(r"[\s,;]+", value or ""):
            if word and _column_key(word) in NEGATIVE_OPINIONS:
                return word
    return None


_DELIMITERS = ("\t", ",", ";", "|")


def _column_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.strip().lower())


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which column index holds what."""

    header: tuple[str, ...]
    digests: tuple[tuple[int, HashAlgorithm], ...]
    typed: tuple[int, int] | None  # (value index, type index)
    fields: Mapping[str, int]
    note_parts: tuple[int, ...]
    ignored: tuple[str, ...]
    quality: int = -1  # index of a PDQ quality column, -1 when there is none

    @classmethod
    def from_header(cls, header: Sequence[str]) -> _Layout:
        keys = [_column_key(name) for name in header]
        digests = tuple(
            (i, _DIGEST_COLUMNS[key]) for i, key in enumerate(keys) if key in _DIGEST_COLUMNS
        )
        typed = None
        for value_key, type_key in _TYPED_PAIRS:
            if value_key in keys and type_key in keys:
                typed = (keys.index(value_key), keys.index(type_key))
                break
        if typed is None and "hash" in keys:
            typed = (keys.index("hash"), -1)
        used = {i for i, _ in digests} | set(typed or ())
        fields: dict[str, int] = {}
        note_parts = []
        for i, key in enumerate(keys):
            role = _FIELD_COLUMNS.get(key)
            if i in used or role is None:
                continue
            if role == "note_part":
                note_parts.append(i)
                used.add(i)
            elif role not in fields:
                fields[role] = i
                used.add(i)
        ignored = tuple(
            header[i] for i, key in enumerate(keys) if i not in used and key not in _DERIVED_COLUMNS
        )
        quality = next((i for i, key in enumerate(keys) if key in ("quality", "pdqquality")), -1)
        return cls(tuple(header), digests, typed, fields, tuple(note_parts), ignored, quality)

    @property
    def has_hashes(self) -> bool:
        return bool(self.digests) or self.typed is not None

    @property
    def plain(self) -> bool:
        """Rows carry an id and hex digests only: they can be read in columns."""
        return (
            bool(self.digests)
            and all(algorithm in HEX_LENGTHS for _, algorithm in self.digests)
            and self.typed is None
            and not self.note_parts
            and self.quality < 0
            and set(self.fields) <= {"id"}
        )


def _sniff_delimiter(line: str) -> str:
    counts = {delimiter: line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            return line
    return None


class DelimitedReader:
    """Reader for CSV/TSV lists with a header row.

    Args:
        category_scheme: scheme for the category column when the file has no scheme column;
            None infers it from each code (numbers: Project VIC; A/B/C: UK Sentencing Council;
            A1..B2: industry) and uses "threatexchange" for threatexchange exports.
    """

    name = "delimited"

    def __init__(self, category_scheme: str | None = None) -> None:
        self._category_scheme = category_scheme

    def detect(self, head: bytes, path: Path) -> bool:
        """True when the first line is a header naming a digest column."""
        line = _first_line(head.decode("utf-8-sig", "replace"))
        if line is None:
            return False
        header = next(csv.reader([line], delimiter=_sniff_delimiter(line)), [])
        return _Layout.from_header(header).has_hashes

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Read the header, then stream the rows.

        Raises:
            ListFormatError: no header naming a digest column (at once); a bad row (while
                iterating), naming its line.
        """
        source = str(path)
        try:
            with path.open(encoding="utf-8-sig", errors="replace") as handle:
                line = _first_line(handle.read(65536))
        except OSError as exc:
            raise ListFormatError(source, None, f"cannot read the file: {exc.strerror}") from exc
        if line is None:
            raise ListFormatError(source, None, "empty file: no header row")
        delimiter = _sniff_delimiter(line)
        header = next(csv.reader([line], delimiter=delimiter), [])
        layout = _Layout.from_header(header)
        if not layout.has_hashes:
            raise ListFormatError(
                source, 1, "the header names no digest column (md5, sha1, sha256, pdq, ...)"
            )
        scheme = self._category_scheme
        if scheme is None and layout.typed is not None:
            type_key = _column_key(header[layout.typed[1]]) if layout.typed[1] >= 0 else ""
            if type_key in ("signaltype", "type"):
                scheme = THREATEXCHANGE_SCHEME
        stated = {"delimiter": delimiter, "columns": ",".join(header)}
        if layout.ignored:
            stated["ignored_columns"] = ",".join(layout.ignored)
        metadata = ListMetadata(
            format_name=self.name,
            suggested_name=path.stem,
            category_scheme=scheme,
            stated=stated,
        )
        report = ReadReport()

        def parse(number: int, row: list[str]) -> HashEntry | None:
            return _row_entry(row, layout, scheme, report)

        rows = numbered_rows(path, source, delimiter)
        entries: Iterator[HashEntry]
        if layout.plain:
            entries = ColumnarEntries(
                plain_columns(
                    rows,
                    width=len(header),
                    digests=layout.digests,
                    id_index=layout.fields.get("id"),
                    parse=parse,
                    source=source,
                    policy=errors,
                    report=report,
                ),
                report,
            )
        else:
            entries = guard_records(rows, parse, source=source, policy=errors, report=report)
        return ParsedList(metadata, entries, report)


def _row_entry(
    row: list[str], layout: _Layout, scheme: str | None, report: ReadReport
) -> HashEntry | None:
    if len(row) != len(layout.header):
        raise RecordError(f"{len(row)} fields, the header names {len(layout.header)}")
    report.last_quality = row[layout.quality].strip() or None if layout.quality >= 0 else None
    digests: dict[HashAlgorithm, str] = {}
    for index, algorithm in layout.digests:
        _add(digests, algorithm, row[index], layout.header[index], report)
    if layout.typed is not None:
        value_index, type_index = layout.typed
        row_algorithm = _row_algorithm(row, value_index, type_index)
        if row_algorithm is None:
            raise IgnoredRecord(f"signal type {row[type_index].strip()!r} is not a file hash")
        _add(digests, row_algorithm, row[value_index], layout.header[value_index], report)
    if not digests:
        raise RecordError("no digest in the row")

    def cell(role: str) -> str | None:
        index = layout.fields.get(role)
        value = row[index].strip() if index is not None else ""
        return value or None

    tags = [row[i] for i in layout.note_parts if _column_key(layout.header[i]) == "tags"]
    # threatexchange's vocabulary only: another scheme's category is never an opinion.
    opinion = cell("category") if scheme == THREATEXCHANGE_SCHEME else None
    negative = negative_opinion(opinion, cell("status"), *tags)
    if negative is not None:
        raise IgnoredRecord(f"negative or disputed opinion ({negative}): not a known-bad hash")

    notes = [cell("notes")] + [
        f"{layout.header[i]}: {row[i].strip()}" for i in layout.note_parts if row[i].strip()
    ]
    if cell("status"):
        notes.append(f"status: {cell('status')}")
    category = category_in_scheme(cell("scheme") or scheme, cell("category"), scheme or PROJECT_VIC)
    record_id = cell("id")
    unread: list[str] = []
    size = soft_size(cell("size"), "size", unread)
    provenance = Provenance(
        source_record_id=(
            cell("source_record_id") if "source_record_id" in layout.fields else record_id
        ),
        series=cell("series"),
        victim_identified=soft_bool(cell("victim_identified"), "victim_identified", unread),
        first_seen=soft_date(cell("first_seen"), "first_seen", unread),
        last_seen=soft_date(cell("last_seen"), "last_seen", unread),
        notes=with_unread("\n".join(n for n in notes if n) or None, unread, report),
    )
    return HashEntry(
        entry_id=record_id or derived_entry_id(digests),
        digests=digests,
        category=category,
        provenance=provenance,
        file_name=cell("file_name"),
        size=size,
    )


def _row_algorithm(row: list[str], value_index: int, type_index: int) -> HashAlgorithm | None:
    """The algorithm a typed row names; None for a signal type that is not a hash."""
    if type_index < 0:
        length = len(row[value_index].strip())
        by_length = {32: HashAlgorithm.MD5, 40: HashAlgorithm.SHA1}
        if length not in by_length:
            raise RecordError(
                f"a {length}-character value in a 'hash' column without a type column is "
                "ambiguous; name the column md5, sha1, sha256 or pdq"
            )
        return by_length[length]
    return _TYPE_NAMES.get(_column_key(row[type_index]))


def _add(
    digests: dict[HashAlgorithm, str],
    algorithm: HashAlgorithm,
    value: str,
    column: str,
    report: ReadReport,
) -> None:
    try:
        digest = parse_digest(algorithm, value, column)
    except PlaceholderPhotoDnaError:
        report.note("placeholder PhotoDNA value dropped")
        return
    if digest is not None:
        digests[algorithm] = digest
