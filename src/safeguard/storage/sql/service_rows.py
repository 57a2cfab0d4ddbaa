"""Rows of the service tables to domain objects and back (used by `SqlServiceStore`).

Every datetime is stored in UTC; SQLite hands them back naive, so `utc` reattaches it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from safeguard.domain.cases import match_as_record, match_from_record
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import StorageError
from safeguard.domain.matches import Match
from safeguard.domain.service import (
    ApiKey,
    DeliveryState,
    QueuedReport,
    ReportStatus,
    SeenUpload,
    UploadContext,
    WebhookDelivery,
    parse_scopes,
)

DIGEST_COLUMNS = {
    HashAlgorithm.MD5: "md5",
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.SHA256: "sha256",
}


def utc(value: datetime | None) -> datetime | None:
    """`value` in UTC; a naive value (from SQLite) is taken as UTC."""
    # SQLite hands back naive datetimes; everything is stored in UTC, so reattach it.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def required_utc(value: datetime) -> datetime:
    """`utc` for a value that cannot be None."""
    result = utc(value)
    assert result is not None
    return result


def new_id(primary_key: Sequence[Any] | None) -> int:
    """The id the database assigned on insert."""
    if not primary_key:
        raise StorageError("the database returned no id")
    return int(primary_key[0])


def matches_text(matches: Sequence[Match]) -> str:
    """Matches as JSON text."""
    return json.dumps([match_as_record(m) for m in matches])


def matches_value(text: str) -> tuple[Match, ...]:
    """Matches from `matches_text` output."""
    return tuple(match_from_record(r) for r in json.loads(text))


def iso(value: datetime | None) -> str | None:
    """ISO 8601 text of a UTC datetime, or None."""
    return None if value is None else required_utc(value).isoformat()


def from_iso(value: object) -> datetime | None:
    """A datetime from `iso` output, or None."""
    return None if not value else datetime.fromisoformat(str(value))


def key_from_row(row: Any) -> ApiKey:
    """A key from its row."""
    return ApiKey(
        key_id=row.key_id,
        name=row.name,
        secret_sha256=row.secret_sha256,
        scopes=parse_scopes(row.scopes),
        rate_per_minute=row.rate_per_minute,
        created_at=required_utc(row.created_at),
        revoked_at=utc(row.revoked_at),
    )


def seen_from_row(row: Any) -> SeenUpload:
    """A seen upload from its row."""
    digests = {
        algo: getattr(row, column)
        for algo, column in DIGEST_COLUMNS.items()
        if getattr(row, column)
    }
    return SeenUpload(
        upload_id=int(row.upload_id),
        received_at=required_utc(row.received_at),
        digests=digests,
        pdq=row.pdq,
        pdq_quality=row.pdq_quality,
        size=row.size,
        media_type=row.media_type,
        context=UploadContext(
            content_id=row.content_id,
            user_id=row.user_id,
            screen_name=row.screen_name,
            ip_address=row.ip_address,
            uploaded_at=utc(row.uploaded_at),
            file_name=row.file_name,
        ),
    )


def report_from_row(row: Any) -> QueuedReport:
    """A report from its row."""
    fields: Mapping[str, Any] = json.loads(row.fields)
    return QueuedReport(
        report_id=int(row.report_id),
        upload_id=int(row.upload_id),
        created_at=required_utc(row.created_at),
        status=ReportStatus(row.status),
        decided_by=row.decided_by,
        decided_at=utc(row.decided_at),
        decision_note=row.decision_note,
        incident_type=str(fields["incident_type"]),
        incident_at=from_iso(fields.get("incident_at")),
        reported_user=fields.get("reported_user"),
        screen_name=fields.get("screen_name"),
        ip_address=fields.get("ip_address"),
        file_name=fields.get("file_name"),
        file_hashes=dict(fields.get("file_hashes") or {}),
        industry_classification=fields.get("industry_classification"),
        file_viewed_by_esp=bool(fields.get("file_viewed_by_esp")),
        retroactive=bool(fields.get("retroactive")),
        matches=tuple(match_from_record(m) for m in fields.get("matches") or []),
    )


def delivery_values(d: WebhookDelivery) -> dict[str, object]:
    """Column values of a delivery (its id is assigned by the database)."""
    return {
        "list_name": d.list_name,
        "url": d.url,
        "body": d.body,
        "created_at": utc(d.created_at),
        "next_attempt_at": utc(d.next_attempt_at),
        "attempts": d.attempts,
        "state": d.state.value,
        "last_error": d.last_error,
        "delivered_at": utc(d.delivered_at),
    }


def delivery_from_row(row: Any) -> WebhookDelivery:
    """A delivery from its row."""
    return WebhookDelivery(
        delivery_id=int(row.delivery_id),
        list_name=row.list_name,
        url=row.url,
        body=row.body,
        created_at=required_utc(row.created_at),
        next_attempt_at=required_utc(row.next_attempt_at),
        attempts=int(row.attempts),
        state=DeliveryState(row.state),
        last_error=row.last_error,
        delivered_at=utc(row.delivered_at),
    )


def key_values(key: ApiKey) -> dict[str, object]:
    """Column values of a key."""
    return {
        "key_id": key.key_id,
        "name": key.name,
        "secret_sha256": key.secret_sha256,
        "scopes": ",".join(sorted(s.value for s in key.scopes)),
        "rate_per_minute": key.rate_per_minute,
        "created_at": utc(key.created_at),
        "revoked_at": utc(key.revoked_at),
    }


def seen_values(upload: SeenUpload) -> dict[str, object]:
    """Column values of a seen upload (its id is assigned by the database)."""
    ctx = upload.context
    return {
        "received_at": utc(upload.received_at),
        "md5": upload.digests.get(HashAlgorithm.MD5),
        "sha1": upload.digests.get(HashAlgorithm.SHA1),
        "sha256": upload.digests.get(HashAlgorithm.SHA256),
        "pdq": upload.pdq,
        "pdq_quality": upload.pdq_quality,
        "size": upload.size,
        "media_type": upload.media_type,
        "content_id": ctx.content_id,
        "user_id": ctx.user_id,
        "screen_name": ctx.screen_name,
        "ip_address": ctx.ip_address,
        "uploaded_at": utc(ctx.uploaded_at),
        "file_name": ctx.file_name,
    }


def report_values(report: QueuedReport) -> dict[str, object]:
    """Column values of a report; the CyberTipline fields travel as one JSON text."""
    fields = {
        "incident_type": report.incident_type,
        "incident_at": iso(report.incident_at),
        "reported_user": report.reported_user,
        "screen_name": report.screen_name,
        "ip_address": report.ip_address,
        "file_name": report.file_name,
        "file_hashes": dict(report.file_hashes),
        "industry_classification": report.industry_classification,
        "file_viewed_by_esp": report.file_viewed_by_esp,
        "retroactive": report.retroactive,
        "matches": [match_as_record(m) for m in report.matches],
    }
    return {
        "upload_id": report.upload_id,
        "created_at": utc(report.created_at),
        "status": report.status.value,
        "fields": json.dumps(fields),
        "decided_by": report.decided_by,
        "decided_at": utc(report.decided_at),
        "decision_note": report.decision_note,
    }
