"""Cases, exhibits, scan runs, per-file results and the audit trail of who did what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import UNCATEGORISED, Category, ListKind, Provenance
from safeguard.domain.matches import Match


class FileStatus(StrEnum):
    """What a scan concluded about one file of an exhibit."""

    KNOWN_BAD = "known-bad"
    KNOWN_GOOD = "known-good"
    UNKNOWN_IMAGE = "unknown-image"
    UNKNOWN_VIDEO = "unknown-video"
    OTHER = "other"
    ERROR = "error"


class ExhibitKind(StrEnum):
    """How an exhibit reached us."""

    FOLDER = "folder"
    IMAGE_FILE = "image-file"


class RunState(StrEnum):
    """Where a scan run stands; a run that never finished stays ``running``."""

    RUNNING = "running"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Case:
    """An investigation: its number, examiner and description.

    Attributes:
        case_id: the store's id.
        number: the case number people quote; unique.
        examiner: who opened the case.
        description: free text.
        created_at: when the case was opened (timezone-aware).
    """

    case_id: int
    number: str
    examiner: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Exhibit:
    """One piece of evidence in a case: a folder, a disk image or a single file.

    Attributes:
        exhibit_id: the store's id.
        case_id: the case it belongs to.
        reference: the exhibit reference, unique within the case (e.g. ``JB/1``).
        source_path: where the exhibit was read from.
        kind: folder or image file.
        acquisition_hash: ``algorithm:hex`` of the exhibit as acquired (for an image file
            its SHA-256, or the hash stored in an E01); None until known.
        acquisition_verified: True when an E01's stored hash was checked and matches; False
            when it does not match, or the set is damaged, truncated or unreadable; None when
            there is nothing to verify against (raw images, folders).
        manifest_sha256: SHA-256 of the sorted per-file manifest, set when a scan completes.
        acquisition_status: the acquisition check in words (``verified``, ``mismatch``,
            ``computed``, ``unreadable: <why>``, ``damaged: <chunks>``); None until checked.
        acquisition_segments: every file the acquisition hash covers, in order (all segments
            of a split raw image or an E01 set).
        created_at: when the exhibit was registered.
    """

    exhibit_id: int
    case_id: int
    reference: str
    source_path: str
    kind: ExhibitKind
    created_at: datetime
    acquisition_hash: str | None = None
    acquisition_verified: bool | None = None
    manifest_sha256: str | None = None
    acquisition_status: str | None = None
    acquisition_segments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListVersion:
    """A hash list as it stood when a scan used it."""

    name: str
    kind: ListKind
    version: str


@dataclass(frozen=True, slots=True)
class ScanRun:
    """One invocation of a scan over an exhibit; a resumed scan is a second run.

    Attributes:
        run_id: the store's id.
        exhibit_id: the exhibit scanned.
        started_at: when the run began.
        finished_at: when it completed; None while running or if it was killed.
        tool_version: Safeguard's version.
        lists: the hash lists and versions matched against.
        examiner: who started it.
        state: running or completed.
        files_recorded: results this run committed (not counting earlier runs).
    """

    run_id: int
    exhibit_id: int
    started_at: datetime
    tool_version: str
    examiner: str
    lists: tuple[ListVersion, ...] = ()
    finished_at: datetime | None = None
    state: RunState = RunState.RUNNING
    files_recorded: int = 0


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome for one file of an exhibit, keyed by its path inside the exhibit.

    Attributes:
        path: full path inside the exhibit, container chain included; unique per exhibit.
        status: what the scan concluded.
        size: bytes read, or the size the container records when unreadable.
        md5, sha1, sha256: hex digests; None when the file could not be read.
        pdq, pdq_quality: perceptual hash of an image and its quality.
        media_type: MIME type sniffed from content.
        modified, accessed, created, changed: timestamps as the source records them.
        deleted: recovered from an unallocated entry.
        error: why the file could not be (fully) read.
        category: for known-bad files, the category of the deciding match.
        matches: every match, with list, version, distance and provenance; matches on a
            video's sampled frames carry the frame's time (`Match.frame_seconds`).
        frame_seconds: for a video, the time of the frame of the deciding match; else None.
        video_frames: for a video, how many frames were sampled and hashed; else None.
    """

    path: str
    status: FileStatus
    size: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    media_type: str = "application/octet-stream"
    modified: datetime | None = None
    accessed: datetime | None = None
    created: datetime | None = None
    changed: datetime | None = None
    deleted: bool = False
    error: str | None = None
    category: Category = UNCATEGORISED
    matches: tuple[Match, ...] = ()
    frame_seconds: float | None = None
    video_frames: int | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One line of the append-only audit log.

    Attributes:
        at: when it happened (timezone-aware).
        actor: who did it (examiner name or operating-system user).
        action: a short verb phrase, e.g. ``case.created``, ``scan.started``, ``report.written``.
        case_id, exhibit_id: what it concerns, when it concerns one.
        detail: small, non-sensitive facts (never hashes of listed content, never secrets).
        event_id: the store's id; 0 before it is stored.
    """

    at: datetime
    actor: str
    action: str
    case_id: int | None = None
    exhibit_id: int | None = None
    detail: Mapping[str, str] = field(default_factory=dict)
    event_id: int = 0


def _date_text(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date_value(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def match_as_record(match: Match) -> dict[str, object]:
    """A JSON-ready mapping of a match, the inverse of `match_from_record`."""
    prov = match.provenance
    return {
        "list_name": match.list_name,
        "list_kind": match.list_kind.value,
        "list_version": match.list_version,
        "entry_id": match.entry_id,
        "algorithm": match.algorithm.value,
        "distance": match.distance,
        "threshold": match.threshold,
        "query_quality": match.query_quality,
        "variant": match.variant,
        "category": {
            "scheme": match.category.scheme,
            "code": match.category.code,
            "label": match.category.label,
        },
        "provenance": {
            "source_record_id": prov.source_record_id,
            "series": prov.series,
            "victim_identified": prov.victim_identified,
            "first_seen": _date_text(prov.first_seen),
            "last_seen": _date_text(prov.last_seen),
            "notes": prov.notes,
        },
        "frame_seconds": match.frame_seconds,
    }


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def match_from_record(record: Mapping[str, object]) -> Match:
    """Rebuild a match from `match_as_record` output (e.g. read back from storage)."""
    cat = record.get("category")
    prov = record.get("provenance")
    cat_map: Mapping[str, object] = cat if isinstance(cat, Mapping) else {}
    prov_map: Mapping[str, object] = prov if isinstance(prov, Mapping) else {}
    category = (
        Category(str(cat_map["scheme"]), str(cat_map["code"]), str(cat_map["label"]))
        if cat_map
        else UNCATEGORISED
    )
    victim = prov_map.get("victim_identified")
    quality = record.get("query_quality")
    frame = record.get("frame_seconds")
    return Match(
        list_name=str(record["list_name"]),
        list_kind=ListKind(str(record["list_kind"])),
        entry_id=str(record["entry_id"]),
        algorithm=HashAlgorithm(str(record["algorithm"])),
        distance=int(str(record.get("distance", 0))),
        threshold=int(str(record.get("threshold", 0))),
        list_version=str(record.get("list_version", "")),
        query_quality=None if quality is None else int(str(quality)),
        variant=str(record.get("variant", "original")),
        category=category,
        provenance=Provenance(
            source_record_id=_opt_str(prov_map.get("source_record_id")),
            series=_opt_str(prov_map.get("series")),
            victim_identified=None if victim is None else bool(victim),
            first_seen=_date_value(prov_map.get("first_seen")),
            last_seen=_date_value(prov_map.get("last_seen")),
            notes=_opt_str(prov_map.get("notes")),
        ),
        frame_seconds=None if frame is None else float(str(frame)),
    )
