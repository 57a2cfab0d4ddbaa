"""Project VIC / VICS 2.0 JSON writing: hash sets (``#Media``) and cases (``#Cases``).

One Media record per line, streamed from the entries. What VICS has no field for travels in
`MediaMetadata` as ``Safeguard.*`` properties, which `safeguard.list_formats.vics.VicsReader`
reads back; see docs/list-formats.md for the field mapping.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import BinaryIO, TextIO, cast

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import PROJECT_VIC, HashEntry
from safeguard.list_formats.contract import ListMetadata, derived_entry_id
from safeguard.list_formats.vics import SAFEGUARD_PROPERTY, VICS_UK_NUMERIC


class VicsWriter:
    """Writer for VICS 2.0 JSON: a hash set (`#Media`), or a case (`#Cases`) when `as_case`.

    Numeric categories of the region's scheme (Project VIC; VICS-UK codes in a UK file) go in
    `Category`; a category in any other scheme, an entry id that is not a number (the MediaID is
    then the record's position), a source record id other than the MediaID, and a first-seen date
    go in `MediaMetadata` as `Safeguard.*` properties, which VICS tools ignore and `VicsReader`
    reads back. SHA-256 and PDQ go in
    `AlternativeHashes`. The file name becomes one `MediaFiles` instance.

    Args:
        region: the context's region: "Default" (hash sets), "US", "UK" or "CUSTOM".
        as_case: write one case holding all media instead of a hash set.
    """

    binary = False

    def __init__(self, region: str = "Default", *, as_case: bool = False) -> None:
        self.region = region
        self.as_case = as_case
        self.name = "vics-case" if as_case else "vics"

    def write(
        self, entries: Iterable[HashEntry], stream: TextIO | BinaryIO, metadata: ListMetadata
    ) -> int:
        """Write the document, one Media record per line; returns the number of records."""
        out = cast(TextIO, stream)
        shape = "Cases" if self.as_case else "Media"
        context = f"{_CONTEXT_BASE}/{self.region}/$metadata#{shape}"
        out.write("{" + json.dumps("@odata.context") + ":" + json.dumps(context) + ",\n")
        if self.as_case:
            case = {
                "CaseID": metadata.stated.get("CaseID") or "{" + str(uuid.uuid4()).upper() + "}",
                "CaseNumber": metadata.stated.get("CaseNumber", metadata.suggested_name or ""),
                "SourceApplicationName": "Safeguard",
                "SourceApplicationVersion": metadata.version,
            }
            head = json.dumps(case, ensure_ascii=False)[:-1]
            out.write('"value":[' + head + ',"Media":[\n')
        else:
            out.write('"value":[\n')
        # In a UK file a numeric Category is read as a VICS-UK code, so only those go there.
        numeric = VICS_UK_NUMERIC if self.region.upper() == "UK" else PROJECT_VIC
        count = 0
        for count, entry in enumerate(entries, start=1):
            if count > 1:
                out.write(",\n")
            out.write(json.dumps(_media_record(entry, count, numeric), ensure_ascii=False))
        out.write("\n]}]}\n" if self.as_case else "\n]}\n")
        return count


_CONTEXT_BASE = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml"


def _media_record(entry: HashEntry, number: int, numeric_scheme: str) -> dict[str, object]:
    digests = entry.digests
    properties: list[dict[str, str]] = []
    media: dict[str, object] = {}
    media["MediaID"] = int(entry.entry_id) if entry.entry_id.isdigit() else number
    own_id = entry.entry_id != derived_entry_id(digests)
    if own_id:
        # The reader derives ids from digests (MediaID is no key); any other id travels here.
        properties.append(_property("EntryId", entry.entry_id))
    record_id = entry.provenance.source_record_id
    if record_id is not None and (own_id or record_id != str(media["MediaID"])):
        properties.append(_property("SourceRecordId", record_id))
    elif record_id is None and not entry.entry_id.isdigit():
        # MediaID is then only the position: say so, or it reads back as a source record.
        properties.append(_property("SourceRecordId", ""))
    category = entry.category
    if category.scheme == numeric_scheme and category.code.isdigit():
        media["Category"] = int(category.code)
    elif not category.is_uncategorised:
        properties.append(_property("CategoryScheme", category.scheme))
        properties.append(_property("CategoryCode", category.code))
    md5 = digests.get(HashAlgorithm.MD5)
    # Readers recognise a Media record by its MD5 key: a record without an MD5 (PDQ or SHA-256
    # only) still carries the key, as null, so its other hashes are not skipped.
    media["MD5"] = md5.upper() if md5 else None
    if HashAlgorithm.SHA1 in digests:
        media["SHA1"] = digests[HashAlgorithm.SHA1].upper()
    if HashAlgorithm.PHOTODNA in digests:
        media["PhotoDNA"] = digests[HashAlgorithm.PHOTODNA]
    alternatives = [
        {"MD5": (md5 or "").upper(), "HashName": label, "HashValue": digests[algorithm]}
        for algorithm, label in ((HashAlgorithm.SHA256, "SHA256"), (HashAlgorithm.PDQ, "PDQ"))
        if algorithm in digests
    ]
    if alternatives:
        media["AlternativeHashes"] = alternatives
    if entry.size is not None:
        media["MediaSize"] = entry.size
    provenance = entry.provenance
    if provenance.last_seen is not None:
        media["DateUpdated"] = provenance.last_seen.isoformat() + "T00:00:00Z"
    if provenance.first_seen is not None:
        properties.append(_property("FirstSeen", provenance.first_seen.isoformat()))
    if provenance.victim_identified is not None:
        # A JSON boolean: a public reader takes any non-empty string, "false" included, as true.
        media["VictimIdentified"] = provenance.victim_identified
    if provenance.series:
        media["Series"] = provenance.series
    if provenance.notes:
        media["Comments"] = provenance.notes
    if entry.file_name:
        folder, _, name = entry.file_name.replace("\\", "/").rpartition("/")
        separator = "\\" if "\\" in entry.file_name else "/"
        instance = {"MD5": (md5 or "").upper(), "FileName": name}
        if folder:
            instance["FilePath"] = entry.file_name[: len(folder) + 1].replace("/", separator)
        media["MediaFiles"] = [instance]
    if properties:
        media["MediaMetadata"] = properties
    return media


def _property(name: str, value: str) -> dict[str, str]:
    return {"PropertyName": SAFEGUARD_PROPERTY + name, "PropertyValue": value}
