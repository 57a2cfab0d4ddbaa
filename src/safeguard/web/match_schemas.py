"""Request and response models of the matching endpoints, and their conversions from the domain.

Items are matched one at a time or in batches of up to `MAX_BATCH_ITEMS`, as files or as
hashes the platform computed itself, with what the platform knows about the upload.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import ListKind
from safeguard.domain.service import UploadContext
from safeguard.services.platform.upload_matching import ItemResult
from safeguard.web.schemas import InputModel, MatchOut

MAX_BATCH_ITEMS = 1000


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
