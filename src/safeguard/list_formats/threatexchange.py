"""The files python-threatexchange and HMA write, other than the CSV `delimited` reads.

* Signal lines (`ThreatexchangeSignalsReader`, ``te-signals``): ``<signal type> <value>`` per
  line, as ``threatexchange hash`` prints and its local-file collaboration (``FileSignalExchangeAPI``)
  reads and appends; ``threatexchange dataset -P`` lines, which add the collaboration and the
  opinion after the value, read the same way. Written by `ThreatexchangeSignalsWriter`, so an
  export can feed a threatexchange file collaboration.
* State files (`ThreatexchangeStateReader`, ``te-state``): ``simple.<TYPE>.te``, headerless CSV
  written by the threatexchange CLI 1.x (indicator, first descriptor id, added on, labels) and
  HMA 1.0 (indicator, indicator id, first descriptor id, added on, labels). The type is in the
  file name, so a renamed file is refused with the reason.
* JSON lines (`JsonLinesReader`, ``jsonl``): one object per line, as
  ``threatexchange api fb_threatexchange query --format jsonl`` writes (``indicator``, ``type``,
  ``status``, ``tags``...), or with digest keys (``md5``, ``sha256``, ``pdq``...).

Signals that the list itself marks as negative (``NEGATIVE_CLASS``, ``DISPUTED``, status
``NON_MALICIOUS``, the labels ``false_positive``/``disputed``) are not imported as known-bad:
each such record is counted in the report's ignored reasons, as are signal types that are not
file hashes (url, raw_text, trend_query, url_md5...).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry, Provenance
from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ParsedList,
    ReadReport,
    derived_entry_id,
)
from safeguard.list_formats.delimited import THREATEXCHANGE_SCHEME, negative_opinion
from safeguard.list_formats.record_parsing import (
    IgnoredRecord,
    RecordError,
    guard_records,
    parse_digest,
    soft_date,
    with_unread,
)

SIGNAL_TYPES: Mapping[str, HashAlgorithm] = {
    "pdq": HashAlgorithm.PDQ,
    "hash_pdq": HashAlgorithm.PDQ,
    "video_md5": HashAlgorithm.MD5,
    "hash_video_md5": HashAlgorithm.MD5,
    "md5": HashAlgorithm.MD5,
    "hash_md5": HashAlgorithm.MD5,
    "video_sha256": HashAlgorithm.SHA256,
    "hash_video_sha256": HashAlgorithm.SHA256,
    "sha256": HashAlgorithm.SHA256,
    "hash_sha256": HashAlgorithm.SHA256,
    "sha1": HashAlgorithm.SHA1,
    "hash_sha1": HashAlgorithm.SHA1,
    "photodna": HashAlgorithm.PHOTODNA,
    "hash_photodna": HashAlgorithm.PHOTODNA,
}
"""threatexchange signal type and ThreatExchange indicator type names (lower case) that are file
hashes Safeguard keeps."""

OTHER_SIGNAL_TYPES = frozenset(
    {
        "url",
        "uri",
        "url_md5",
        "raw_text",
        "trend_query",
        "vpdq",
        "hash_tmk",
        "tmk_pdqf",
        "hash_vpdq",
        "domain",
        "ip_address",
        "email_address",
        "debug_string",
    }
)
"""Signal types threatexchange knows that are not file hashes: read past, counted."""

_SIGNAL_LINE = re.compile(r"^(?P<type>[A-Za-z][A-Za-z0-9_]*)\s+(?P<value>\S+)(?:\s+(?P<rest>.*))?$")
_TE_NAME = re.compile(r"^simple\.(?P<type>[^.]+)\.te$")
_SAMPLE_LINES = 20


def _signal_algorithm(type_name: str) -> HashAlgorithm:
    """The algorithm of a signal type; `IgnoredRecord` for a known non-hash type.

    Raises:
        IgnoredRecord: a signal type that is not a file hash.
        RecordError: a signal type nobody knows.
    """
    key = type_name.strip().lower()
    algorithm = SIGNAL_TYPES.get(key)
    if algorithm is not None:
        return algorithm
    if key in OTHER_SIGNAL_TYPES:
        raise IgnoredRecord(f"signal type {key!r} is not a file hash")
    raise RecordError(f"unknown signal type {type_name[:40]!r}")


def _entry(
    algorithm: HashAlgorithm,
    value: object,
    field_name: str,
    *,
    record_id: str | None = None,
    notes: list[str] | None = None,
    added_on: object = None,
    report: ReadReport,
) -> HashEntry:
    digest = parse_digest(algorithm, value, field_name)
    if digest is None:
        raise RecordError(f"no {field_name} value")
    digests = {algorithm: digest}
    unread: list[str] = []
    first_seen = soft_date(added_on, "added_on", unread) if added_on != "mine" else None
    text = "\n".join(n for n in notes or () if n) or None
    return HashEntry(
        entry_id=derived_entry_id(digests),
        digests=digests,
        provenance=Provenance(
            source_record_id=record_id,
            first_seen=first_seen,
            notes=with_unread(text, unread, report),
        ),
    )


def _open_text(path: Path, source: str) -> TextIO:
    try:
        return path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise ListFormatError(source, None, f"cannot read the file: {exc.strerror}") from exc


def _numbered_lines(path: Path, source: str) -> Iterator[tuple[int, str]]:
    with _open_text(path, source) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if line.strip() and not line.lstrip().startswith("#"):
                yield number, line


def _content_lines(head: bytes) -> list[str]:
    lines = head.decode("utf-8-sig", "replace").split("\n")
    if len(head) >= 4096 and len(lines) > 1:
        lines = lines[:-1]
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class ThreatexchangeSignalsReader:
    """Reader for ``<signal type> <value>`` lines (threatexchange hash / file collaboration)."""

    name = "te-signals"

    def detect(self, head: bytes, path: Path) -> bool:
        """True when the first lines all start with a known signal type and a value."""
        sample = _content_lines(head)[:_SAMPLE_LINES]
        if not sample:
            return False
        for line in sample:
            match = _SIGNAL_LINE.match(line)
            if match is None:
                return False
            key = match.group("type").lower()
            if key not in SIGNAL_TYPES and key not in OTHER_SIGNAL_TYPES:
                return False
        return True

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Stream the lines; the text after the value (collaboration, opinion) goes to notes."""
        source = str(path)
        report = ReadReport()
        metadata = ListMetadata(
            format_name=self.name, suggested_name=path.stem, category_scheme=THREATEXCHANGE_SCHEME
        )

        def parse(number: int, line: str) -> HashEntry:
            match = _SIGNAL_LINE.match(line.strip())
            if match is None:
                raise RecordError("not a '<signal type> <value>' line")
            algorithm = _signal_algorithm(match.group("type"))
            rest = match.group("rest")
            negative = negative_opinion(rest)
            if negative is not None:
                raise IgnoredRecord(
                    f"negative or disputed opinion ({negative}): not a known-bad hash"
                )
            return _entry(
                algorithm, match.group("value"), match.group("type"), notes=[rest], report=report
            )

        entries = guard_records(
            _numbered_lines(path, source), parse, source=source, policy=errors, report=report
        )
        return ParsedList(metadata, entries, report)


class ThreatexchangeStateReader:
    """Reader for ``simple.<TYPE>.te`` state files (threatexchange CLI 1.x and HMA 1.0)."""

    name = "te-state"

    def detect(self, head: bytes, path: Path) -> bool:
        """True for a file named ``simple.<TYPE>.te`` whose rows start with a value and an id."""
        if _TE_NAME.match(path.name) is None:
            return False
        lines = _content_lines(head)
        if not lines:
            return False
        row = next(csv.reader([lines[0]]), [])
        return len(row) in (4, 5) and row[1].strip().lstrip("-").isdigit()

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Stream the rows; labels go to notes, negative labels are ignored and counted.

        Raises:
            ListFormatError: the file name does not say the indicator type.
        """
        source = str(path)
        named = _TE_NAME.match(path.name)
        if named is None:
            raise ListFormatError(
                source,
                None,
                "a threatexchange state file names its indicator type: simple.<TYPE>.te",
            )
        type_name = named.group("type")
        report = ReadReport()
        metadata = ListMetadata(
            format_name=self.name,
            suggested_name=path.stem,
            category_scheme=THREATEXCHANGE_SCHEME,
            stated={"indicator_type": type_name},
        )

        def parse(number: int, row: list[str]) -> HashEntry:
            algorithm = _signal_algorithm(type_name)
            if len(row) == 4:  # threatexchange CLI: indicator, descriptor id, added on, labels
                value, descriptor, added_on, labels = row
                indicator_id = None
            elif len(row) == 5:  # HMA 1.0: indicator, indicator id, descriptor id, added, labels
                value, indicator_id, descriptor, added_on, labels = row
            else:
                raise RecordError(f"{len(row)} fields; a .te row has 4 or 5")
            negative = negative_opinion(labels)
            if negative is not None:
                raise IgnoredRecord(
                    f"negative or disputed opinion ({negative}): not a known-bad hash"
                )
            notes = [f"labels: {labels}" if labels else None, f"descriptor: {descriptor}"]
            if added_on == "mine":
                notes.append("added by this app")
            return _entry(
                algorithm,
                value,
                type_name,
                record_id=indicator_id,
                notes=[n for n in notes if n],
                added_on=added_on,
                report=report,
            )

        entries = guard_records(
            _csv_rows(path, source), parse, source=source, policy=errors, report=report
        )
        return ParsedList(metadata, entries, report)


def _csv_rows(path: Path, source: str) -> Iterator[tuple[int, list[str]]]:
    with _open_text(path, source) as handle:
        reader = csv.reader(handle)
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield reader.line_num, row
        except csv.Error as exc:
            raise ListFormatError(source, reader.line_num, f"unreadable CSV: {exc}") from exc


_VALUE_KEYS = ("indicator", "raw_indicator", "signal_str", "signal", "hash", "value")
_TYPE_KEYS = ("type", "signal_type", "indicator_type", "hash_type", "algorithm")
_DIGEST_KEYS: Mapping[str, HashAlgorithm] = {
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA1,
    "sha256": HashAlgorithm.SHA256,
    "pdq": HashAlgorithm.PDQ,
    "photodna": HashAlgorithm.PHOTODNA,
}


class JsonLinesReader:
    """Reader for JSON lines: threatexchange API query output, or objects with digest keys."""

    name = "jsonl"

    def detect(self, head: bytes, path: Path) -> bool:
        """True when the first lines are each one JSON object naming a hash."""
        sample = _content_lines(head)[:_SAMPLE_LINES]
        if not sample:
            return False
        for line in sample:
            try:
                record = json.loads(line)
            except ValueError:
                return False
            if not isinstance(record, dict):
                return False
            keys = {str(k).lower() for k in record}
            if not (
                keys & set(_DIGEST_KEYS) or (keys & set(_VALUE_KEYS) and keys & set(_TYPE_KEYS))
            ):
                return False
        return True

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Stream the objects; status and tags are checked for negative opinions."""
        source = str(path)
        report = ReadReport()
        metadata = ListMetadata(
            format_name=self.name, suggested_name=path.stem, category_scheme=THREATEXCHANGE_SCHEME
        )

        def parse(number: int, line: str) -> HashEntry:
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise RecordError("not a JSON object") from exc
            if not isinstance(record, dict):
                raise RecordError("not a JSON object")
            return _json_entry({str(k).lower(): v for k, v in record.items()}, report)

        entries = guard_records(
            _numbered_lines(path, source), parse, source=source, policy=errors, report=report
        )
        return ParsedList(metadata, entries, report)


def _words(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):  # the Graph API's {"data": [{"text": ...}]}
        data = value.get("data")
        if isinstance(data, list):
            return " ".join(str(t.get("text", "")) for t in data if isinstance(t, dict))
    return "" if value is None else str(value)


def _json_entry(record: Mapping[str, Any], report: ReadReport) -> HashEntry:
    tags = _words(record.get("tags"))
    negative = negative_opinion(_words(record.get("status")), _words(record.get("category")), tags)
    if negative is not None:
        raise IgnoredRecord(f"negative or disputed opinion ({negative}): not a known-bad hash")
    notes = [f"{k}: {_words(record[k])}" for k in ("status", "tags", "owner_id") if record.get(k)]
    record_id = record.get("id")
    digests: dict[HashAlgorithm, str] = {}
    for key, algorithm in _DIGEST_KEYS.items():
        digest = parse_digest(algorithm, record.get(key), key)
        if digest is not None:
            digests[algorithm] = digest
    if not digests:
        type_name = next((str(record[k]) for k in _TYPE_KEYS if record.get(k)), None)
        value = next((record[k] for k in _VALUE_KEYS if record.get(k)), None)
        if type_name is None or value is None:
            raise RecordError("no hash: want md5/sha1/sha256/pdq keys, or indicator and type")
        return _entry(
            _signal_algorithm(type_name),
            value,
            type_name,
            record_id=None if record_id is None else str(record_id),
            notes=notes,
            added_on=record.get("added_on"),
            report=report,
        )
    unread: list[str] = []
    first_seen = soft_date(record.get("added_on"), "added_on", unread)
    return HashEntry(
        entry_id=derived_entry_id(digests),
        digests=digests,
        provenance=Provenance(
            source_record_id=None if record_id is None else str(record_id),
            first_seen=first_seen,
            notes=with_unread("\n".join(notes) or None, unread, report),
        ),
        file_name=None if record.get("file_name") is None else str(record["file_name"]),
    )


_WRITTEN_TYPES: tuple[tuple[HashAlgorithm, str], ...] = (
    (HashAlgorithm.PDQ, "pdq"),
    (HashAlgorithm.MD5, "video_md5"),
    (HashAlgorithm.SHA256, "video_sha256"),
)


class ThreatexchangeSignalsWriter:
    """Writer for ``<signal type> <value>`` lines, as a threatexchange file collaboration reads.

    Each entry gives one line per digest threatexchange has a signal type for: PDQ as ``pdq``,
    MD5 as ``video_md5`` and SHA-256 as ``video_sha256`` (threatexchange's only MD5 and
    SHA-256 signal types). An entry with none of them is skipped.
    """

    name = "te-signals"
    binary = False

    def write(
        self, entries: Iterable[HashEntry], stream: TextIO | BinaryIO, metadata: ListMetadata
    ) -> int:
        """Write the lines; returns the number of entries written."""
        out = cast(TextIO, stream)
        count = 0
        for entry in entries:
            lines = [
                f"{name} {entry.digests[algorithm]}\n"
                for algorithm, name in _WRITTEN_TYPES
                if algorithm in entry.digests
            ]
            if lines:
                out.write("".join(lines))
                count += 1
        return count
