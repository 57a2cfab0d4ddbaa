"""Request and response models of the HTTP API, and their conversions from the domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import (
    UNCATEGORISED,
    HashEntry,
    HashList,
    ListKind,
    Provenance,
    category_for,
)
from safeguard.domain.matches import MAX_PDQ_THRESHOLD, Match
from safeguard.domain.retroactive_jobs import RetroactiveJob
from safeguard.domain.service import UploadContext, stored_actions
from safeguard.services.retroactive import RetroactiveHit
from safeguard.services.upload_matching import ItemResult

MAX_BATCH_ITEMS = 1000


class InputModel(BaseModel):
    """A request body: no text field may hold a NUL character (422, never a store error)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("NUL characters are not accepted")
        return value


class HashRecord(BaseModel):
    """The hashes of one item."""

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_fit_for_matching: bool = False
    size: int | None = None
    media_type: str = "application/octet-stream"

    @classmethod
    def of(cls, hashes: FileHashes) -> HashRecord:
        """From the domain."""
        return cls(
            md5=hashes.digests.get(HashAlgorithm.MD5),
            sha1=hashes.digests.get(HashAlgorithm.SHA1),
            sha256=hashes.digests.get(HashAlgorithm.SHA256),
            pdq=hashes.pdq,
            pdq_quality=hashes.pdq_quality,
            pdq_fit_for_matching=hashes.pdq_fit_for_matching,
            size=hashes.size,
            media_type=hashes.media_type,
        )


class CategoryOut(BaseModel):
    """A classification as the list states it."""

    scheme: str
    code: str
    label: str


class ProvenanceOut(BaseModel):
    """Where the entry came from, as the list states it."""

    source_record_id: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    first_seen: date | None = None
    last_seen: date | None = None
    notes: str | None = None


class MatchOut(BaseModel):
    """One match: intelligence, not proof; distance, threshold and quality say how close."""

    list_name: str
    list_kind: str
    list_version: str
    entry_id: str
    algorithm: str
    distance: int
    threshold: int
    query_quality: int | None
    variant: str
    category: CategoryOut
    provenance: ProvenanceOut

    @classmethod
    def of(cls, match: Match) -> MatchOut:
        """From the domain."""
        prov = match.provenance
        return cls(
            list_name=match.list_name,
            list_kind=match.list_kind.value,
            list_version=match.list_version,
            entry_id=match.entry_id,
            algorithm=match.algorithm.value,
            distance=match.distance,
            threshold=match.threshold,
            query_quality=match.query_quality,
            variant=match.variant,
            category=CategoryOut(
                scheme=match.category.scheme, code=match.category.code, label=match.category.label
            ),
            provenance=ProvenanceOut(
                source_record_id=prov.source_record_id,
                series=prov.series,
                victim_identified=prov.victim_identified,
                first_seen=prov.first_seen,
                last_seen=prov.last_seen,
                notes=prov.notes,
            ),
        )


class MatchResponse(BaseModel):
    """The answer for one item: known or not, and what to do."""

    known: bool = Field(description="True when a known-bad list matched.")
    verdict: str = Field(description="known-bad, known-good, ignorable or unknown.")
    block: bool = Field(description="A matched list's action says to block the item.")
    actions: list[str] = Field(description="Actions taken: block, quarantine, report, webhook.")
    report_id: int | None = None
    quarantine_id: int | None = None
    upload_id: int | None = Field(
        None,
        description="Id of the kept hash record; null for hashes sent as JSON that matched "
        "nothing or only lists whose actions store nothing (block): a running service "
        "stores those records in batches, within a second.",
    )
    hashes: HashRecord
    matches: list[MatchOut]

    @classmethod
    def of(cls, result: ItemResult) -> MatchResponse:
        """From the service's result."""
        return cls(
            known=result.verdict.value == ListKind.KNOWN_BAD.value,
            verdict=result.verdict.value,
            block=result.outcome.block,
            actions=result.outcome.actions,
            report_id=result.outcome.report_id,
            quarantine_id=result.outcome.quarantine_id,
            upload_id=result.upload_id,
            hashes=HashRecord.of(result.hashes),
            matches=[MatchOut.of(m) for m in result.matches],
        )


class UploadContextIn(InputModel):
    """What the platform knows about the upload (used for reports; never logged)."""

    content_id: str | None = Field(None, max_length=200)
    user_id: str | None = Field(None, max_length=200, description="espIdentifier of the uploader.")
    screen_name: str | None = Field(None, max_length=200)
    ip_address: str | None = Field(None, max_length=64)
    uploaded_at: datetime | None = None
    file_name: str | None = Field(None, max_length=500)

    def context(self) -> UploadContext:
        """To the domain."""
        return UploadContext(
            content_id=self.content_id,
            user_id=self.user_id,
            screen_name=self.screen_name,
            ip_address=self.ip_address,
            uploaded_at=self.uploaded_at,
            file_name=self.file_name,
        )


class HashQuery(UploadContextIn):
    """Hashes the platform computed itself, with the upload's context."""

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = Field(None, ge=0, le=100)
    photodna: str | None = Field(
        None,
        description="A PhotoDNA value (base64 or hex), matched by equal value only: distance "
        "matching needs the licensed PhotoDNA algorithm.",
    )

    def digests(self) -> dict[str, str]:
        """The given digests by algorithm name."""
        values = {
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "pdq": self.pdq,
            "photodna": self.photodna,
        }
        return {name: value for name, value in values.items() if value}


class BatchHashQuery(InputModel):
    """Many hash queries in one call."""

    items: list[HashQuery] = Field(max_length=MAX_BATCH_ITEMS)


class BatchItemOut(BaseModel):
    """One item's answer in a batch: a result, or the reason there is none."""

    index: int
    name: str | None = None
    result: MatchResponse | None = None
    error: str | None = None


class BatchMatchResponse(BaseModel):
    """Answers in the order of the items."""

    items: list[BatchItemOut]


class BatchHashItemOut(BaseModel):
    """One item's hashes in a batch, or the reason there are none."""

    index: int
    name: str | None = None
    hashes: HashRecord | None = None
    error: str | None = None


class BatchHashResponse(BaseModel):
    """Hashes in the order of the items."""

    items: list[BatchHashItemOut]


class ListOut(BaseModel):
    """A hash list's settings."""

    name: str
    kind: str
    source: str
    version: str
    imported_at: datetime | None
    pdq_threshold: int | None
    enabled: bool
    actions: list[str]
    unknown_actions: list[str] = Field(
        default=[],
        description="Action names stored before they were checked; ignored on a match.",
    )
    entry_count: int
    webhook_url: str | None = None

    @classmethod
    def of(cls, hash_list: HashList, webhook_url: str | None = None) -> ListOut:
        """From the domain."""
        known, unknown = stored_actions(hash_list.action)
        return cls(
            name=hash_list.name,
            kind=hash_list.kind.value,
            source=hash_list.source,
            version=hash_list.version,
            imported_at=hash_list.imported_at,
            pdq_threshold=hash_list.pdq_threshold,
            enabled=hash_list.enabled,
            actions=sorted(a.value for a in known),
            unknown_actions=list(unknown),
            entry_count=hash_list.entry_count,
            webhook_url=webhook_url,
        )


class ListCreate(InputModel):
    """A new, empty list."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    kind: Literal["known-bad", "known-good", "ignorable"] = "known-bad"
    source: str = ""
    version: str = ""
    pdq_threshold: int | None = Field(None, ge=0, le=MAX_PDQ_THRESHOLD)
    actions: list[Literal["block", "quarantine", "report", "webhook"]] = []
    webhook_url: str | None = None

    @field_validator("name")
    @classmethod
    def _not_dots(cls, value: str) -> str:
        if set(value) == {"."}:
            raise ValueError("a list name cannot be only dots")
        return value

    def hash_list(self) -> HashList:
        """To the domain."""
        return HashList(
            name=self.name,
            kind=ListKind(self.kind),
            source=self.source,
            version=self.version,
            pdq_threshold=self.pdq_threshold,
            action=",".join(self.actions) or None,
        )


class ListUpdate(InputModel):
    """Settings to change; absent fields stay as they are."""

    enabled: bool | None = None
    pdq_threshold: int | None = Field(None, ge=0, le=MAX_PDQ_THRESHOLD)
    actions: list[Literal["block", "quarantine", "report", "webhook"]] | None = None
    webhook_url: str | None = Field(
        None,
        description="A new webhook URL (a new secret is returned), or an empty string to remove it.",
    )


class ListWithSecret(BaseModel):
    """A list, and the webhook signing secret when one was just set (shown once)."""

    hash_list: ListOut
    webhook_secret: str | None = None
    warnings: list[str] = Field(
        default=[], description="Settings accepted with a warning (e.g. a risky threshold)."
    )


class EntryIn(InputModel):
    """One list entry: at least one digest, with optional category and provenance."""

    entry_id: str = Field(min_length=1, max_length=200)
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    category_scheme: str | None = None
    category_code: str | None = None
    source_record_id: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    notes: str | None = None

    def entry(self) -> HashEntry:
        """To the domain (digests are normalised by the store)."""
        values = {
            HashAlgorithm.MD5: self.md5,
            HashAlgorithm.SHA1: self.sha1,
            HashAlgorithm.SHA256: self.sha256,
            HashAlgorithm.PDQ: self.pdq,
        }
        category = (
            category_for(self.category_scheme, self.category_code)
            if self.category_scheme
            else UNCATEGORISED
        )
        return HashEntry(
            entry_id=self.entry_id,
            digests={algo: value for algo, value in values.items() if value},
            category=category,
            provenance=Provenance(
                source_record_id=self.source_record_id,
                series=self.series,
                victim_identified=self.victim_identified,
                notes=self.notes,
            ),
        )


class EntriesAdd(InputModel):
    """Entries to add (an existing entry id is replaced)."""

    entries: list[EntryIn] = Field(min_length=1, max_length=100_000)


class EntriesRemove(InputModel):
    """Entry ids to remove."""

    entry_ids: list[str] = Field(min_length=1, max_length=100_000)


class RetroactiveHitOut(BaseModel):
    """A past upload that matches the new entries, and what its actions did."""

    upload_id: int
    actions: list[str]
    report_id: int | None
    quarantine_id: int | None
    matches: list[MatchOut]

    @classmethod
    def of(cls, hit: RetroactiveHit) -> RetroactiveHitOut:
        """From the service."""
        return cls(
            upload_id=hit.upload_id,
            actions=hit.outcome.actions,
            report_id=hit.outcome.report_id,
            quarantine_id=hit.outcome.quarantine_id,
            matches=[MatchOut.of(m) for m in hit.matches],
        )


class RetroactiveJobOut(BaseModel):
    """A list change's re-matching of past uploads, and where it stands.

    ``state``: prepared, pending, running, held (stopped at ``hit_limit``: resume or cancel
    it), done or cancelled. ``cursor`` is the id of the last past upload done.
    """

    job_id: int
    list_name: str
    state: str
    entries: int | None = Field(description="Entries re-matched; null: every entry")
    cursor: int
    uploads_checked: int
    hits: int
    hit_limit: int | None
    created_at: datetime
    created_by: str
    started_at: datetime | None
    updated_at: datetime | None
    finished_at: datetime | None
    note: str | None

    @classmethod
    def of(cls, job: RetroactiveJob) -> RetroactiveJobOut:
        """From the service."""
        return cls(
            job_id=job.job_id,
            list_name=job.list_name,
            state=job.state.value,
            entries=None if job.entry_ids is None else len(job.entry_ids),
            cursor=job.cursor,
            uploads_checked=job.uploads_checked,
            hits=job.hits,
            hit_limit=job.hit_limit,
            created_at=job.created_at,
            created_by=job.created_by,
            started_at=job.started_at,
            updated_at=job.updated_at,
            finished_at=job.finished_at,
            note=job.note,
        )


class RetroactiveResume(BaseModel):
    """Resume a held job; ``hit_limit`` is its new limit (null: none)."""

    hit_limit: int | None = Field(default=None, ge=1)


class ImportCountsOut(BaseModel):
    """Where every record of an imported file went; nothing leaves without a reason."""

    read: int
    entries: int
    stored: int
    skipped: int
    ignored: int
    merged: int
    ignored_reasons: dict[str, int]
    notes: dict[str, int]
    problems: list[str]
    ignored_records: list[str] = []


class ListChangeOut(BaseModel):
    """The list after a change, how many entries it touched, and retroactive hits."""

    hash_list: ListOut
    written: int
    retroactive: list[RetroactiveHitOut] = []
    import_counts: ImportCountsOut | None = None
    retroactive_job: RetroactiveJobOut | None = None


class Problem(BaseModel):
    """An error answer."""

    detail: str
