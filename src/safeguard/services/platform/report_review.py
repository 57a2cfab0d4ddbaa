"""Use case: a person confirms or dismisses a queued report, and the decision is audited.

The API (and any other interface) calls `ReportReview.decide`; the decision and its audit
entry are written in one store transaction with one timestamp from the service's clock, so
there is never a decision without its audit entry, or the other way round.
"""

from __future__ import annotations

from safeguard.domain.cases import AuditEvent
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.service import QueuedReport, ReportStatus
from safeguard.services.examiner.cases import Clock, utc_now
from safeguard.storage.service_store import ServiceStore

DECISIONS = (ReportStatus.CONFIRMED, ReportStatus.DISMISSED)
"""The statuses a person can give a pending report."""


class ReportReview:
    """Decisions on queued reports."""

    def __init__(self, store: ServiceStore, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    def decide(
        self, report_id: int, status: ReportStatus, actor: str, note: str | None = None
    ) -> QueuedReport:
        """Record `actor`'s decision on a pending report, audited in the same transaction.

        Raises:
            ConfigurationError: `status` is not a decision (confirmed or dismissed).
            NotFoundError: no such report.
            StorageError: the report was already decided (nothing is written).
        """
        if status not in DECISIONS:
            raise ConfigurationError(f"a decision is confirmed or dismissed, not {status.value}")
        now = self._clock()
        audit = AuditEvent(
            at=now,
            actor=actor,
            action=f"report.{status.value}",
            detail={"report_id": str(report_id)},
        )
        return self._store.decide_report(report_id, status, actor, note, now, audit=audit)
