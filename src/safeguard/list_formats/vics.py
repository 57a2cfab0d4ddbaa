"""Project VIC / VICS JSON, versions 1.x (`odata.metadata`) and 2.0 (`@odata.context`).

Reads hash sets (``{"value": [Media, ...]}``) and case files (``{"value": [Case{"Media": [...]}]}``)
as a stream with ijson, so a national file of several GB is read in constant memory. Tolerates a
UTF-8 byte-order mark, `"true"`/`"false"` strings, numbers written as strings, 1.x
`AlternativeHashes`, and .NET ``/Date(ms)/`` timestamps. See docs/list-formats.md for the field
mapping and category schemes. `VicsWriter` (`safeguard.list_formats.vics_writer`) writes
2.0 files that this reader reads back whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import PROJECT_VIC, HashEntry, ListKind, Provenance
from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ParsedList,
    ReadReport,
    derived_entry_id,
)
from safeguard.list_formats.record_parsing import (
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

VICS_UK_NUMERIC = "vics-uk"
"""Scheme for numeric categories in a VICS UK file: the numbers' meaning is not published."""

SAFEGUARD_PROPERTY = "Safeguard."
"""Prefix of the `MediaMetadata` properties Safeguard writes to carry what VICS has no field for."""

_BOM = b"\xef\xbb\xbf"
_PRESCAN_EVENTS = 20_000
_CONTEXT = re.compile(
    r"DataModels/(?P<version>\d+(?:\.\d+)*)\.xml(?:/(?P<region>[A-Za-z]+))?/?(?:\$metadata)?#(?P<shape>\w+)"
)
_ALTERNATIVE_NAMES: Mapping[str, HashAlgorithm] = {
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA1,
    "sha-1": HashAlgorithm.SHA1,
    "sha256": HashAlgorithm.SHA256,
    "sha-256": HashAlgorithm.SHA256,
    "pdq": HashAlgorithm.PDQ,
    "photodna": HashAlgorithm.PHOTODNA,
    "pdna": HashAlgorithm.PHOTODNA,
}
_MEDIA_FIELDS: Mapping[str, HashAlgorithm] = {
    "MD5": HashAlgorithm.MD5,
    "SHA1": HashAlgorithm.SHA1,
    "SHA256": HashAlgorithm.SHA256,
    "PhotoDNA": HashAlgorithm.PHOTODNA,
}
_CASE_FIELDS = (
    "CaseID",
    "CaseNumber",
    "ContactName",
    "ContactOrganization",
    "SourceApplicationName",
    "SourceApplicationVersion",
)


def _open_past_bom(path: Path) -> BinaryIO:
    handle = path.open("rb")
    if handle.read(3) != _BOM:
        handle.seek(0)
    return handle


class VicsReader:
    """Reader for VICS JSON hash sets and case files (1.x and 2.0).

    Args:
        uk_numeric_scheme: scheme recorded for numeric categories in a file whose context says UK;
            the UK numeric codes are not published, so they are kept apart from Project VIC's.
    """

    name = "vics"

    def __init__(self, uk_numeric_scheme: str = VICS_UK_NUMERIC) -> None:
        self._uk_numeric_scheme = uk_numeric_scheme

    def detect(self, head: bytes, path: Path) -> bool:
        """True for JSON that names the VICS/Project VIC data model or has Media records."""
        text = head.removeprefix(_BOM).decode("utf-8", "replace").lstrip()
        if not text.startswith("{"):
            return False
        lowered = text.lower()
        if ("odata.context" in lowered or "odata.metadata" in lowered) and (
            "projectvic" in lowered or "vicsdatamodel" in lowered
        ):
            return True
        return '"value"' in text and '"MediaID"' in text

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Read the file's header, then stream its Media records.

        Raises:
            ListFormatError: not JSON, no `value` array, or (while iterating) a malformed record
                or a file that breaks off (truncated download).
        """
        source = str(path)
        stated, is_case = self._prescan(path, source)
        numeric_scheme = PROJECT_VIC
        if stated.get("vics_region", "").upper() == "UK":
            numeric_scheme = self._uk_numeric_scheme
        metadata = ListMetadata(
            format_name=self.name,
            source=stated.get("ContactOrganization", ""),
            suggested_name=path.stem,
            suggested_kind=ListKind.KNOWN_BAD,
            category_scheme=numeric_scheme,
            stated=stated,
        )
        report = ReadReport()
        prefix = "value.item.Media.item" if is_case else "value.item"
        records = _stream_records(path, source, prefix)
        entries = guard_records(
            records,
            lambda number, media: _media_entry(media, numeric_scheme, report),
            source=source,
            policy=errors,
            report=report,
        )
        return ParsedList(metadata, entries, report)

    def _prescan(self, path: Path, source: str) -> tuple[dict[str, str], bool]:
        """Top-level (and first case's) scalar fields, and whether the file holds cases."""
        stated: dict[str, str] = {}
        is_case: bool | None = None
        depth = 0
        top_key = ""
        saw_value = False
        complete = True
        try:
            with _open_past_bom(path) as handle:
                for count, (prefix, event, value) in enumerate(ijson.parse(handle)):
                    if count > _PRESCAN_EVENTS or is_case is False:
                        complete = False
                        break
                    if event in ("start_map", "start_array"):
                        depth += 1
                    elif event in ("end_map", "end_array"):
                        depth -= 1
                        if depth == 1 and top_key == "value":
                            break
                    elif event == "map_key" and depth == 1:
                        top_key = str(value)
                        saw_value = saw_value or top_key == "value"
                    elif event == "map_key" and prefix == "value.item":
                        if value == "Media":
                            is_case = True
                        elif value in ("MD5", "MediaID", "SHA1"):
                            is_case = False
                    elif depth == 1:
                        stated[top_key] = str(value)
                    elif depth == 3 and prefix.startswith("value.item."):
                        key = prefix.removeprefix("value.item.")
                        if key in _CASE_FIELDS and value is not None:
                            stated[key] = str(value)
        except ijson.JSONError as exc:
            complete = False  # the record stream reports where it breaks
            if not stated and is_case is None:
                raise ListFormatError(source, None, "not a JSON document") from exc
        if complete and not saw_value and "value" not in stated:
            raise ListFormatError(source, None, 'no "value" array: not a VICS hash set or case')
        context = stated.get("@odata.context") or stated.get("odata.metadata")
        if context:
            match = _CONTEXT.search(context)
            if match:
                stated["vics_version"] = match.group("version")
                stated["vics_region"] = match.group("region") or ""
                if is_case is None:
                    is_case = match.group("shape").lower() == "cases"
        if is_case is None:
            is_case = False
        return stated, is_case


def _stream_records(path: Path, source: str, prefix: str) -> Iterator[tuple[int, Any]]:
    """Numbered Media objects under `prefix`; a broken or truncated document raises at the break."""
    number = 0
    with _open_past_bom(path) as handle:
        try:
            for number, media in enumerate(ijson.items(handle, prefix, use_float=True), start=1):
                yield number, media
        except ijson.JSONError as exc:
            # ijson's message quotes the bytes around the break, which may be digests: left out.
            raise ListFormatError(
                source,
                number + 1,
                f"the JSON breaks off after record {number}: truncated or corrupt file",
            ) from exc


def _media_entry(media: Any, numeric_scheme: str, report: ReadReport) -> HashEntry:
    if not isinstance(media, dict):
        raise RecordError("a Media record must be a JSON object")
    properties = _safeguard_properties(media.get("MediaMetadata"))
    digests: dict[HashAlgorithm, str] = {}
    for field_name, algorithm in _MEDIA_FIELDS.items():
        _add_digest(digests, algorithm, media.get(field_name), field_name, report)
    for alternative in media.get("AlternativeHashes") or ():
        if not isinstance(alternative, dict):
            raise RecordError("AlternativeHashes holds something other than an object")
        hash_name = str(alternative.get("HashName", "")).strip().lower()
        alternative_algorithm = _ALTERNATIVE_NAMES.get(hash_name)
        if alternative_algorithm is None or alternative_algorithm in digests:
            continue
        label = f"AlternativeHashes {alternative.get('HashName')}"
        _add_digest(digests, alternative_algorithm, alternative.get("HashValue"), label, report)
    if not digests:
        raise RecordError("no MD5, SHA1 or PhotoDNA value")
    media_id = media.get("MediaID")
    if isinstance(media_id, float) and media_id.is_integer():
        media_id = int(media_id)
    record_id = None if media_id is None or media_id == "" else str(media_id)
    # MediaID is no key: cases each number from 1, some writers put 0 everywhere. The id
    # comes from the digests, so records never replace one another; MediaID stays provenance.
    entry_id = properties.get("EntryId") or derived_entry_id(digests)
    category = category_in_scheme(
        properties.get("CategoryScheme"),
        properties.get("CategoryCode", media.get("Category")),
        numeric_scheme,
    )
    unread: list[str] = []
    media_size = media.get("MediaSize")
    # Fast paths for the common, well-typed values; the soft parsers handle the rest.
    size = (
        media_size
        if type(media_size) is int and media_size >= 0
        else soft_size(media_size, "MediaSize", unread)
    )
    victim = media.get("VictimIdentified")
    if type(victim) is not bool:
        victim = soft_bool(victim, "VictimIdentified", unread)
    notes = _text(media.get("Comments"))
    tags = _text(media.get("Tags"))
    if tags and not properties.get("CategoryScheme"):
        notes = f"{notes}\nTags: {tags}" if notes else f"Tags: {tags}"
    # An id Safeguard invented for the export is no source record: only a stated one counts.
    default_record_id = None if "EntryId" in properties else record_id
    provenance = Provenance(
        source_record_id=properties.get("SourceRecordId", default_record_id) or None,
        series=_text(media.get("Series")),
        victim_identified=victim,
        first_seen=(
            soft_date(properties["FirstSeen"], "Safeguard.FirstSeen", unread)
            if "FirstSeen" in properties
            else None
        ),
        last_seen=soft_date(media.get("DateUpdated"), "DateUpdated", unread),
        notes=with_unread(notes, unread, report),
    )
    return HashEntry(
        entry_id=entry_id,
        digests=digests,
        category=category,
        provenance=provenance,
        file_name=_file_name(media),
        size=size,
    )


def _add_digest(
    digests: dict[HashAlgorithm, str],
    algorithm: HashAlgorithm,
    value: object,
    field_name: str,
    report: ReadReport,
) -> None:
    try:
        digest = parse_digest(algorithm, value, field_name)
    except PlaceholderPhotoDnaError:
        report.note("placeholder PhotoDNA value dropped")
        return
    if digest is not None:
        digests[algorithm] = digest


def _safeguard_properties(metadata: object) -> dict[str, str]:
    """The `Safeguard.*` MediaMetadata properties, without the prefix."""
    found: dict[str, str] = {}
    if not isinstance(metadata, list):
        return found
    for item in metadata:
        if not isinstance(item, dict):
            continue
        name = str(item.get("PropertyName", ""))
        if name.startswith(SAFEGUARD_PROPERTY):
            found[name.removeprefix(SAFEGUARD_PROPERTY)] = str(item.get("PropertyValue", ""))
    return found


def _file_name(media: Mapping[str, Any]) -> str | None:
    """The first on-disk instance's path (MediaFiles), else RelativeFilePath."""
    files = media.get("MediaFiles")
    if isinstance(files, list):
        for instance in files:
            if not isinstance(instance, dict):
                continue
            name = _text(instance.get("FileName")) or ""
            folder = _text(instance.get("FilePath")) or ""
            if name and _ends_with_name(folder, name):
                return folder  # some writers put the whole path, name included, in FilePath
            if folder and name and not folder.endswith(("/", "\\")):
                folder += "\\" if "\\" in folder else "/"
            joined = folder + name if name else folder
            if joined:
                return joined
    return _text(media.get("RelativeFilePath"))


def _ends_with_name(folder: str, name: str) -> bool:
    """True when `folder` is already a full path ending in the file `name`."""
    if folder == name:
        return True
    return folder.endswith(("/" + name, "\\" + name))


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
