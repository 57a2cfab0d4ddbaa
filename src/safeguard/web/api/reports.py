"""``/v1/reports`` for people to confirm or dismiss, plus quarantine, audit and webhooks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from safeguard.domain.cases import AuditEvent
from safeguard.domain.errors import SafeguardError
from safeguard.domain.service import ApiKey, QueuedReport, ReportStatus, Scope
from safeguard.web.auth import actor_of, require
from safeguard.web.review_schemas import AuditOut, Decision, DeliveryOut, QuarantineOut, ReportOut
from safeguard.web.state import AppState, app_state

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["review"])

Reviewer = Annotated[ApiKey, Depends(require(Scope.REPORTS_REVIEW))]
Admin = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
State = Annotated[AppState, Depends(app_state)]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/reports", response_model=list[ReportOut], summary="Queued reports")
def list_reports(
    key: Reviewer, state: State, status: ReportStatus | None = None, limit: Limit = 100
) -> list[ReportOut]:
    """Reports, oldest first; `status=pending` for the review queue."""
    store = state.services.service_store
    return [ReportOut.of(r) for r in store.list_reports(status, limit)]


@router.get("/reports/{report_id}", response_model=ReportOut, summary="One report")
def get_report(report_id: int, key: Reviewer, state: State) -> ReportOut:
    """One report, in CyberTipline fields; never an image."""
    return ReportOut.of(state.services.service_store.get_report(report_id))


def decide_report(
    state: AppState, actor: str, report_id: int, status: ReportStatus, note: str | None
) -> ReportOut:
    """Record a person's decision on a pending report, and audit it.

    A confirmed report is also taken in as an intelligence referral.

    Raises:
        NotFoundError: no such report.
        StorageError: the report was already decided.
    """
    store = state.services.service_store
    now = datetime.now(UTC)
    report = store.decide_report(report_id, status, actor, note, now)
    store.add_audit(
        AuditEvent(
            at=now,
            actor=actor,
            action=f"report.{status.value}",
            detail={"report_id": str(report_id)},
        )
    )
    if status is ReportStatus.CONFIRMED:
        _refer(state, actor, report)
    return ReportOut.of(report)


def _refer(state: AppState, actor: str, report: QueuedReport) -> None:
    """A confirmed report becomes an intelligence referral, without anyone exporting it.

    The decision stands even if this fails: `safeguard intel ingest --confirmed-reports`
    takes in every confirmed report again (idempotently), so nothing is lost.
    """
    try:
        state.services.intel_intake.ingest_confirmed_reports([report], actor=actor)
    except SafeguardError as exc:
        logger.warning("confirmed report not yet referred to intelligence: %s", type(exc).__name__)


@router.post("/reports/{report_id}/confirm", response_model=ReportOut, summary="Confirm a report")
def confirm_report(report_id: int, body: Decision, key: Reviewer, state: State) -> ReportOut:
    """A person confirms the report should be filed; audited. 409 if already decided."""
    return decide_report(state, actor_of(key), report_id, ReportStatus.CONFIRMED, body.note)


@router.post("/reports/{report_id}/dismiss", response_model=ReportOut, summary="Dismiss a report")
def dismiss_report(report_id: int, body: Decision, key: Reviewer, state: State) -> ReportOut:
    """A person dismisses the report (e.g. a false perceptual match); audited."""
    return decide_report(state, actor_of(key), report_id, ReportStatus.DISMISSED, body.note)


@router.get("/quarantine", response_model=list[QuarantineOut], summary="Quarantined items")
def list_quarantine(key: Reviewer, state: State, limit: Limit = 100) -> list[QuarantineOut]:
    """Items kept for review (hashes and matches only), newest first."""
    return [QuarantineOut.of(q) for q in state.services.service_store.list_quarantine(limit)]


@router.get("/audit", response_model=list[AuditOut], summary="Audit log")
def list_audit(key: Admin, state: State, limit: Limit = 100) -> list[AuditOut]:
    """Key, list and report decisions, newest first."""
    return [AuditOut.of(e) for e in state.services.service_store.list_audit(limit)]


@router.get("/webhooks/deliveries", response_model=list[DeliveryOut], summary="Webhook deliveries")
def list_deliveries(key: Admin, state: State, limit: Limit = 100) -> list[DeliveryOut]:
    """Webhook deliveries and their state, newest first."""
    return [DeliveryOut.of(d) for d in state.services.service_store.list_deliveries(limit)]
