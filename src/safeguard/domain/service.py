"""The matching service's vocabulary: API keys, actions, seen uploads, reports, webhooks.

The service keeps hashes and upload metadata, never content. The audit trail reuses
`safeguard.domain.cases.AuditEvent`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.matches import Match


class Scope(StrEnum):
    """What an API key may do; ``admin`` implies every other scope."""

    MATCH = "match"
    LISTS_WRITE = "lists:write"
    REPORTS_REVIEW = "reports:review"
    INTEL_READ = "intel:read"
    INTEL_WRITE = "intel:write"
    ADMIN = "admin"


def parse_scopes(text: str | Iterable[str]) -> frozenset[Scope]:
    """Scopes from ``"match,lists:write"`` or an iterable of names.

    Raises:
        ConfigurationError: an unknown scope name.
    """
    names = text.split(",") if isinstance(text, str) else list(text)
    scopes: set[Scope] = set()
    for name in names:
        cleaned = name.strip()
        if not cleaned:
            continue
        try:
            scopes.add(Scope(cleaned))
        except ValueError as exc:
            known = ", ".join(s.value for s in Scope)
            raise ConfigurationError(f"unknown scope {cleaned!r} (known: {known})") from exc
    return frozenset(scopes)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: an id for lookup and a hash of the secret, never the secret.

    Attributes:
        key_id: public, random identifier; the first part of the presented token.
        name: who or what the key is for.
        secret_sha256: hex SHA-256 of the secret part of the token.
        scopes: what the key may do.
        rate_per_minute: requests a minute this key may make; None means the service default.
        created_at: when it was issued.
        revoked_at: when it was revoked; None while it is valid.
    """

    key_id: str
    name: str
    secret_sha256: str
    scopes: frozenset[Scope]
    created_at: datetime
    rate_per_minute: int | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_at is None

    def allows(self, scope: Scope) -> bool:
        """True when the key holds `scope` or ``admin``."""
        return scope in self.scopes or Scope.ADMIN in self.scopes


class ActionKind(StrEnum):
    """What the service does when an upload matches a list."""

    BLOCK = "block"
    QUARANTINE = "quarantine"
    REPORT = "report"
    WEBHOOK = "webhook"


def parse_actions(text: str | None) -> frozenset[ActionKind]:
    """The actions of a list from its ``action`` field (comma-separated; empty is none).

    Raises:
        ConfigurationError: an unknown action name.
    """
    actions: set[ActionKind] = set()
    for name in (text or "").split(","):
        cleaned = name.strip().lower()
        if not cleaned:
            continue
        try:
            actions.add(ActionKind(cleaned))
        except ValueError as exc:
            known = ", ".join(a.value for a in ActionKind)
            raise ConfigurationError(f"unknown action {cleaned!r} (known: {known})") from exc
    return frozenset(actions)


def format_actions(actions: Iterable[ActionKind]) -> str | None:
    """The ``action`` field for a set of actions, in a stable order; None when empty."""
    chosen = set(actions)
    text = ",".join(a.value for a in ActionKind if a in chosen)
    return text or None


@dataclass(frozen=True, slots=True)
class UploadContext:
    """What the platform tells us about an upload, for reports (CyberTipline fields).

    Attributes:
        content_id: the platform's id of the item.
        user_id: the uploader's account id at the platform (``espIdentifier``).
        screen_name: the uploader's screen name, if any.
        ip_address: the upload IP (``ipCaptureEvent``); personal data, never logged.
        uploaded_at: when the platform received the upload (``incidentDateTime``).
        file_name: the name the uploader gave the file.
    """

    content_id: str | None = None
    user_id: str | None = None
    screen_name: str | None = None
    ip_address: str | None = None
    uploaded_at: datetime | None = None
    file_name: str | None = None


@dataclass(frozen=True, slots=True)
class SeenUpload:
    """The hashes of an item the service has seen, kept for retroactive matching.

    Attributes:
        upload_id: the store's id; 0 before it is stored.
        received_at: when the service hashed it.
        size: bytes, when the content was uploaded (None for hash-only queries).
        media_type: sniffed type.
        digests: cryptographic digests.
        pdq: PDQ hash when fit for matching, else None.
        pdq_quality: PDQ quality.
        context: platform metadata for reports.
    """

    received_at: datetime
    digests: Mapping[HashAlgorithm, str] = field(default_factory=dict)
    pdq: str | None = None
    pdq_quality: int | None = None
    size: int | None = None
    media_type: str = "application/octet-stream"
    context: UploadContext = field(default_factory=UploadContext)
    upload_id: int = 0


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """An item kept for review because it matched a ``quarantine`` list (hashes only).

    Attributes:
        item_id: the store's id; 0 before stored.
        upload_id: the seen upload it concerns.
        created_at: when it was quarantined.
        matches: the matches that caused it.
        retroactive: True when found by re-matching past uploads.
    """

    upload_id: int
    created_at: datetime
    matches: tuple[Match, ...]
    retroactive: bool = False
    item_id: int = 0


class ReportStatus(StrEnum):
    """Where a queued report stands; only a person moves it out of ``pending``."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


INCIDENT_TYPE_CSAM = "Child Pornography (possession, manufacture, and distribution)"


@dataclass(frozen=True, slots=True)
class QueuedReport:
    """A report drafted in CyberTipline fields, waiting for a person to confirm it.

    Attributes:
        report_id: the store's id; 0 before stored.
        upload_id: the seen upload it concerns.
        created_at: when it was queued.
        incident_type: CyberTipline ``incidentSummary.incidentType``.
        incident_at: ``incidentDateTime``: the upload time, as the platform gave it.
        reported_user: ``personOrUserReported.espIdentifier``.
        screen_name: ``personOrUserReported.screenName``.
        ip_address: ``ipCaptureEvent.ipAddress`` of the upload.
        file_name: ``originalFileName``.
        file_hashes: ``originalFileHash`` (MD5, SHA1) plus SHA256/PDQ as ``details``.
        industry_classification: A1, A2, B1 or B2 when the list's category gives one.
        file_viewed_by_esp: always False when drafted: the service never shows the content.
        matches: the matches behind the report (distance, list, provenance).
        retroactive: True when found by re-matching past uploads.
        status: pending, confirmed or dismissed.
        decided_by, decided_at, decision_note: the reviewer's decision.
    """

    upload_id: int
    created_at: datetime
    matches: tuple[Match, ...]
    file_hashes: Mapping[str, str] = field(default_factory=dict)
    incident_type: str = INCIDENT_TYPE_CSAM
    incident_at: datetime | None = None
    reported_user: str | None = None
    screen_name: str | None = None
    ip_address: str | None = None
    file_name: str | None = None
    industry_classification: str | None = None
    file_viewed_by_esp: bool = False
    retroactive: bool = False
    status: ReportStatus = ReportStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    report_id: int = 0


class DeliveryState(StrEnum):
    """Where a webhook delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where a list's ``webhook`` action posts, and the secret that signs the posts."""

    list_name: str
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One signed POST to make, persisted so a restart does not lose it.

    Attributes:
        delivery_id: the store's id; 0 before stored.
        list_name: the list whose action it is (the signing secret is looked up by it).
        url: where to POST.
        body: the JSON body, exactly as it will be signed and sent.
        created_at: when it was queued.
        next_attempt_at: when it is due (or leased until, while a worker sends it).
        attempts: tries so far.
        state: pending, delivered or failed (gave up).
        last_error: the last failure, without secrets.
        delivered_at: when the receiver accepted it.
    """

    list_name: str
    url: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    state: DeliveryState = DeliveryState.PENDING
    last_error: str | None = None
    delivered_at: datetime | None = None
    delivery_id: int = 0
