"""Request and response models of the list endpoints, and their conversions from the domain.

Lists and their settings, entries added and removed, file imports and the retroactive
matching of past uploads that a list change starts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import (
    UNCATEGORISED,
    HashEntry,
    HashList,
    ListKind,
    Provenance,
    category_for,
)
from safeguard.domain.matches import MAX_PDQ_THRESHOLD
from safeguard.domain.retroactive_jobs import RetroactiveJob
from safeguard.domain.service import stored_actions
from safeguard.services.platform.retroactive import RetroactiveHit
from safeguard.web.schemas import InputModel, MatchOut


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
    # Pydantic copies the default per instance; ruff cannot tell InputModel is pydantic's.
    actions: list[Literal["block", "quarantine", "report", "webhook"]] = []  # noqa: RUF012
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
