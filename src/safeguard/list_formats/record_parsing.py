"""Parsing shared by the readers: field values, categories, and the per-record error policy."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TypeVar

from safeguard.domain.digests import HEX_LENGTHS, HashAlgorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError, ListFormatError
from safeguard.domain.hash_lists import (
    CATEGORY_SCHEMES,
    INDUSTRY,
    PROJECT_VIC,
    UK_SENTENCING,
    UNCATEGORISED,
    Category,
    HashEntry,
    category_for,
)
from safeguard.list_formats.contract import ErrorPolicy, ReadReport
from safeguard.list_formats.entry_columns import EntryColumns

RawRecord = TypeVar("RawRecord")

PHOTODNA_BYTES = 144

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class RecordError(ValueError):
    """A field of one record is malformed; the reader adds the file and record number."""


class IgnoredRecord(Exception):  # noqa: N818 - a signal, not an error
    """A well-formed record that is deliberately not kept; the message is the reason."""


class PlaceholderPhotoDnaError(RecordError):
    """A PhotoDNA field holds a dummy value; readers drop the value and keep the record."""


def parse_bool(value: object, field_name: str) -> bool | None:
    """A flag from JSON or text: true/false, "true"/"false", 1/0, yes/no; None when absent.

    Raises:
        RecordError: any other value.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(f"{field_name} is {value!r}, not true or false")


def parse_date(value: object, field_name: str) -> date | None:
    """The UTC calendar date of a timestamp in any form `read_date` knows.

    Raises:
        RecordError: the value is not a recognised date.
    """
    day, raw = read_date(value)
    if raw is not None:
        raise RecordError(f"{field_name} is {raw[:40]!r}, not a date Safeguard can read")
    return day


_OFFSET_THEN_Z = re.compile(r"([+-]\d{2}:?\d{2})[Zz]$")
_TRAILING_ZONE_NAME = re.compile(r"\s*(?:UTC|GMT)$", re.IGNORECASE)
_EPOCH = re.compile(r"^-?\d{9,13}(?:\.\d+)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T](.*))?$")


def read_date(value: object) -> tuple[date | None, str | None]:
    """Read a timestamp as real list writers produce it; never raises.

    Returns ``(UTC date, None)`` when the value is read, ``(None, None)`` when it is empty, and
    ``(None, raw text)`` when it cannot be read, so a caller keeps the text rather than losing
    the record. Forms read: ISO 8601 in any precision (7-digit .NET fractions included), with
    ``Z``, an offset, an offset followed by a redundant ``Z`` (``...123+01:00Z``, written by a
    UK exporter), a lower-case ``z``, or a trailing ``UTC``/``GMT``; a date alone; .NET
    ``/Date(ms)/`` and ``/Date(ms+hhmm)/``; Unix seconds or milliseconds; and
    ``dd/mm/yyyy [time]`` when the day is over 12 (otherwise day and month are ambiguous and
    the raw text is kept).
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, str(value)
    if isinstance(value, int | float):
        return _epoch_date(float(value), str(value))
    return _date_of_text(str(value).strip())


@lru_cache(maxsize=4096)
def _date_of_text(text: str) -> tuple[date | None, str | None]:
    """`read_date` for text; cached because a list repeats a handful of stamps."""
    if not text:
        return None, None
    try:  # the common case first: plain ISO 8601
        return _utc_date(datetime.fromisoformat(text)), None
    except ValueError:
        pass
    dotnet = _DOTNET_DATE.match(text)
    if dotnet:
        return datetime.fromtimestamp(int(dotnet.group(1)) / 1000, tz=UTC).date(), None
    if _EPOCH.match(text):
        return _epoch_date(float(text), text)
    cleaned = _OFFSET_THEN_Z.sub(r"\1", text)
    cleaned = _TRAILING_ZONE_NAME.sub("Z", cleaned)
    if cleaned.endswith("z"):
        cleaned = cleaned[:-1] + "Z"
    day_first = _DAY_FIRST.match(cleaned)
    if day_first:
        day, month, year, rest = day_first.groups()
        if int(day) <= 12:
            return None, text
        cleaned = f"{year}-{int(month):02d}-{int(day):02d}" + (f"T{rest}" if rest else "")
    try:
        return _utc_date(datetime.fromisoformat(cleaned)), None
    except ValueError:
        return None, text


def _utc_date(stamp: datetime) -> date:
    return (stamp.astimezone(UTC) if stamp.tzinfo is not None else stamp).date()


def _epoch_date(number: float, text: str) -> tuple[date | None, str | None]:
    seconds = number / 1000 if abs(number) >= 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).date(), None
    except (OverflowError, OSError, ValueError):
        return None, text


def soft_date(value: object, field_name: str, unread: list[str]) -> date | None:
    """`read_date`, keeping an unreadable value as ``field: text`` in `unread`."""
    day, raw = read_date(value)
    if raw is not None:
        unread.append(f"{field_name}: {raw[:200]}")
    return day


def soft_bool(value: object, field_name: str, unread: list[str]) -> bool | None:
    """`parse_bool`, keeping an odd value as ``field: text`` in `unread` instead of failing."""
    try:
        return parse_bool(value, field_name)
    except RecordError:
        unread.append(f"{field_name}: {str(value)[:200]}")
        return None


def soft_size(value: object, field_name: str, unread: list[str]) -> int | None:
    """`parse_size`, keeping an odd value as ``field: text`` in `unread` instead of failing."""
    try:
        return parse_size(value, field_name)
    except RecordError:
        unread.append(f"{field_name}: {str(value)[:200]}")
        return None


def with_unread(notes: str | None, unread: list[str], report: ReadReport) -> str | None:
    """`notes` with the metadata that could not be read appended verbatim (and counted).

    Odd metadata never costs a record its hashes: the value is kept as text where a person
    can see it, and the report counts it.
    """
    if not unread:
        return notes
    for item in unread:
        report.note(f"{item.split(':', 1)[0]} not readable, kept as text in the notes")
    kept = "Unread metadata: " + "; ".join(unread)
    return f"{notes}\n{kept}" if notes else kept


def parse_size(value: object, field_name: str) -> int | None:
    """A non-negative byte count from a number or numeric string; None when absent.

    Raises:
        RecordError: not a whole, non-negative number.
    """
    if value is None or value == "":
        return None
    try:
        size = int(str(value).strip())
    except ValueError as exc:
        raise RecordError(f"{field_name} is {value!r}, not a whole number") from exc
    if size < 0:
        raise RecordError(f"{field_name} is negative ({size})")
    return size


def parse_digest(algorithm: HashAlgorithm, value: object, field_name: str) -> str | None:
    """A canonical digest, or None when the field is empty.

    Raises:
        RecordError: the value does not fit the algorithm.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if algorithm is HashAlgorithm.PHOTODNA:
        return parse_photodna(text, field_name)
    try:
        return normalise_digest(algorithm, text)
    except InvalidDigestError as exc:
        # Say what is wrong without quoting the value: hash lists stay out of logs.
        expected = HEX_LENGTHS[algorithm]
        raise RecordError(
            f"{field_name} is not a {algorithm.value} digest "
            f"({expected} hex digits wanted, got {len(text)} characters)"
        ) from exc


def parse_photodna(text: str, field_name: str) -> str:
    """Check a PhotoDNA value (base64 or hex of 144 bytes) and return it verbatim.

    Raises:
        RecordError: wrong length or alphabet, or a placeholder (every byte the same), as some
            exporters write a constant dummy value.
    """
    raw: bytes | None = None
    if len(text) == 2 * PHOTODNA_BYTES and re.fullmatch(r"[0-9a-fA-F]+", text):
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != PHOTODNA_BYTES:
        raise RecordError(
            f"{field_name} is not a PhotoDNA value (base64 or hex of {PHOTODNA_BYTES} bytes)"
        )
    if len(set(raw)) == 1:
        raise PlaceholderPhotoDnaError(f"{field_name} is a placeholder (all bytes equal)")
    return text


_INDUSTRY_CODES = frozenset(CATEGORY_SCHEMES[INDUSTRY])
_UK_CODES = frozenset(CATEGORY_SCHEMES[UK_SENTENCING])


def infer_category(code: object, numeric_scheme: str = PROJECT_VIC) -> Category:
    """A category from a code whose scheme the file does not state.

    Whole numbers belong to `numeric_scheme` (Project VIC unless the caller knows better);
    A/B/C to the UK Sentencing Council scheme; A1/A2/B1/B2 to the industry scheme. Anything else
    is kept in `numeric_scheme` with a "not in scheme" label. Empty or None is `UNCATEGORISED`.
    """
    if code is None or isinstance(code, bool):
        return UNCATEGORISED
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return _category_of_text(str(code).strip().upper(), numeric_scheme)


@lru_cache(maxsize=1024)
def _category_of_text(text: str, numeric_scheme: str) -> Category:
    """`infer_category` for normalised text; cached because lists repeat a handful of codes."""
    if not text:
        return UNCATEGORISED
    if text in _INDUSTRY_CODES:
        return category_for(INDUSTRY, text)
    if text in _UK_CODES:
        return category_for(UK_SENTENCING, text)
    return category_for(numeric_scheme, text)


def category_in_scheme(scheme: str | None, code: object, numeric_scheme: str) -> Category:
    """A category from an explicit scheme when given, else inferred from the code."""
    if scheme and str(scheme).strip():
        name = str(scheme).strip()
        if name == UNCATEGORISED.scheme:
            return UNCATEGORISED
        return category_for(name, None if code is None else str(code))
    return infer_category(code, numeric_scheme)


def guard_records(
    records: Iterable[tuple[int, RawRecord]],
    parse: Callable[[int, RawRecord], HashEntry | None],
    *,
    source: str,
    policy: ErrorPolicy,
    report: ReadReport,
) -> Iterator[HashEntry]:
    """Parse numbered raw records one by one, applying the error policy.

    `parse` returns an entry, None for a well-formed record that carries nothing to keep,
    raises `IgnoredRecord(reason)` for one left out on purpose, or raises
    `RecordError`/`ListFormatError`. Under STRICT the first error is raised as a
    `ListFormatError` naming `source` and the record number; under LENIENT it is counted.
    """
    iterator = iter(records)
    try:
        for number, raw in iterator:
            report.records += 1
            report.last_record = number
            try:
                entry = parse(number, raw)
            except IgnoredRecord as ignored:
                report.ignore(str(ignored), source, number)
                continue
            except RecordError as exc:
                error = ListFormatError(source, number, str(exc))
                if policy is ErrorPolicy.STRICT:
                    raise error from exc
                report.skip(error)
                continue
            except ListFormatError as error:
                if policy is ErrorPolicy.STRICT:
                    raise
                report.skip(error)
                continue
            if entry is None:
                report.ignore("carries no hash Safeguard keeps", source, number)
                continue
            report.entries += 1
            yield entry
    finally:
        # Close the source now (file, database), not whenever it is collected.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def guarded_columns(
    records: Iterable[tuple[int, RawRecord]],
    parse: Callable[[int, RawRecord], HashEntry | None],
    *,
    source: str,
    policy: ErrorPolicy,
    report: ReadReport,
) -> EntryColumns | None:
    """`guard_records` over one batch, as columns with each entry's record number.

    The record-by-record path of a reader that reads plain batches as columns: None when
    the batch kept no entry.
    """
    entries: list[HashEntry] = []
    numbers: list[int] = []
    for entry in guard_records(records, parse, source=source, policy=policy, report=report):
        entries.append(entry)
        numbers.append(report.last_record)
    return EntryColumns.of_entries(entries, numbers) if entries else None
