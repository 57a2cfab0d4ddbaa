"""Response models of the review endpoints: reports, quarantine, audit, webhook deliveries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from safeguard.domain.cases import AuditEvent
from safeguard.domain.service import QuarantineItem, QueuedReport, WebhookDelivery
from safeguard.web.schemas import MatchOut


class ReportOut(BaseModel):
    """A queued report in CyberTipline fields. No image: hashes, list and distance only."""

    report_id: int
    status: str
    created_at: datetime
    upload_id: int
    incident_type: str
    incident_at: datetime | None
    reported_user: str | None = Field(description="personOrUserReported.espIdentifier")
    screen_name: str | None
    ip_address: str | None = Field(description="ipCaptureEvent.ipAddress")
    file_name: str | None = Field(description="originalFileName")
    file_hashes: dict[str, str] = Field(description="originalFileHash (MD5, SHA1) and details")
    industry_classification: str | None
    file_viewed_by_esp: bool
    retroactive: bool
    matches: list[MatchOut]
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None

    @classmethod
    def of(cls, report: QueuedReport) -> ReportOut:
        """From the domain."""
        return cls(
            report_id=report.report_id,
            status=report.status.value,
            created_at=report.created_at,
            upload_id=report.upload_id,
            incident_type=report.incident_type,
            incident_at=report.incident_at,
            reported_user=report.reported_user,
            screen_name=report.screen_name,
            ip_address=report.ip_address,
            file_name=report.file_name,
            file_hashes=dict(report.file_hashes),
            industry_classification=report.industry_classification,
            file_viewed_by_esp=report.file_viewed_by_esp,
            retroactive=report.retroactive,
            matches=[MatchOut.of(m) for m in report.matches],
            decided_by=report.decided_by,
            decided_at=report.decided_at,
            decision_note=report.decision_note,
        )


class Decision(BaseModel):
    """A reviewer's reason for confirming or dismissing a report."""

    note: str | None = Field(None, max_length=2000)


class QuarantineOut(BaseModel):
    """An item kept for review: its id, hashes' record id and matches."""

    item_id: int
    upload_id: int
    created_at: datetime
    retroactive: bool
    matches: list[MatchOut]

    @classmethod
    def of(cls, item: QuarantineItem) -> QuarantineOut:
        """From the domain."""
        return cls(
            item_id=item.item_id,
            upload_id=item.upload_id,
            created_at=item.created_at,
            retroactive=item.retroactive,
            matches=[MatchOut.of(m) for m in item.matches],
        )


class AuditOut(BaseModel):
    """One audit event."""

    event_id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, str]

    @classmethod
    def of(cls, event: AuditEvent) -> AuditOut:
        """From the domain."""
        return cls(
            event_id=event.event_id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            detail=dict(event.detail),
        )


class DeliveryOut(BaseModel):
    """A webhook delivery's state (the body is not shown)."""

    delivery_id: int
    list_name: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        """From the domain."""
        return cls(
            delivery_id=delivery.delivery_id,
            list_name=delivery.list_name,
            state=delivery.state.value,
            attempts=delivery.attempts,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            last_error=delivery.last_error,
        )
