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

RawRecord = TypeVar("RawRecord")

PHOTODNA_BYTES = 144

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class RecordError(ValueError):
    """A field of one record is malformed; the reader adds the file and record number."""


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
    """The UTC calendar date of an ISO-8601 date or timestamp, or a .NET ``/Date(ms)/``.

    Raises:
        RecordError: the value is not a recognised date.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    dotnet = _DOTNET_DATE.match(text)
    if dotnet:
        return datetime.fromtimestamp(int(dotnet.group(1)) / 1000, tz=UTC).date()
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RecordError(f"{field_name} is {text[:40]!r}, not an ISO-8601 date") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC)
    return stamp.date()


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

    `parse` returns an entry, None for a well-formed record that carries nothing to keep, or
    raises `RecordError`/`ListFormatError`. Under STRICT the first error is raised as a
    `ListFormatError` naming `source` and the record number; under LENIENT it is counted.
    """
    iterator = iter(records)
    try:
        for number, raw in iterator:
            report.records += 1
            try:
                entry = parse(number, raw)
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
                report.ignored += 1
                continue
            report.entries += 1
            yield entry
    finally:
        # Close the source now (file, database), not whenever it is collected.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
