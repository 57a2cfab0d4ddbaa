"""In-memory `ServiceStore`: the fake for unit tests and throwaway demos."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from safeguard.domain.cases import AuditEvent
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.service import (
    ApiKey,
    DeliveryState,
    QuarantineItem,
    QueuedReport,
    ReportStatus,
    SeenUpload,
    WebhookDelivery,
    WebhookTarget,
)
from safeguard.storage.service_store import SeenHashes


class MemoryServiceStore:
    """A thread-safe, process-local `ServiceStore`.

    Args:
        list_revision: reads the list store's committed revision, for the marks of
            `add_seen` and `add_seen_many`; without it every item given a revision is
            marked (never too few).
    """

    def __init__(self, list_revision: Callable[[], int] | None = None) -> None:
        self._lock = threading.Lock()
        self._list_revision = list_revision
        self._keys: dict[str, ApiKey] = {}
        self._seen: dict[int, SeenUpload] = {}
        self._rematch: dict[int, int] = {}
        self._hits: set[tuple[int, str, str]] = set()
        self._quarantine: dict[int, QuarantineItem] = {}
        self._reports: dict[int, QueuedReport] = {}
        self._targets: dict[str, WebhookTarget] = {}
        self._deliveries: dict[int, WebhookDelivery] = {}
        self._audit: dict[int, AuditEvent] = {}
        self._next_id = 0

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_key(self, key: ApiKey) -> None:
        """Store a new key."""
        with self._lock:
            if key.key_id in self._keys:
                raise StorageError("duplicate key id")
            self._keys[key.key_id] = key

    def get_key(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""
        return self._keys.get(key_id)

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey:
        """Mark a key revoked."""
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                raise NotFoundError(f"no API key {key_id!r}")
            revoked = replace(key, revoked_at=key.revoked_at or at)
            self._keys[key_id] = revoked
            return revoked

    def add_seen(self, upload: SeenUpload, revision: int | None) -> int:
        """Record a seen upload, marked if matched before the list revision."""
        return self.add_seen_many([upload], None if revision is None else [revision])[0]

    def add_seen_many(
        self, uploads: Sequence[SeenUpload], revisions: Sequence[int] | None
    ) -> list[int]:
        """Record many seen uploads, marking those matched before the list revision."""
        with self._lock:
            ids = []
            for upload in uploads:
                upload_id = self._new_id()
                self._seen[upload_id] = replace(upload, upload_id=upload_id)
                ids.append(upload_id)
            if revisions is not None:
                committed = None if self._list_revision is None else self._list_revision()
                for upload_id, revision in zip(ids, revisions, strict=True):
                    if committed is None or revision < committed:
                        self._rematch[upload_id] = revision
            return ids

    def seen_to_rematch(self, limit: int) -> list[SeenUpload]:
        """Marked seen uploads, by id."""
        with self._lock:
            return [self._seen[i] for i in sorted(self._rematch)[:limit]]

    def mark_rematched(self, upload_ids: Sequence[int]) -> None:
        """Clear marks."""
        with self._lock:
            for upload_id in upload_ids:
                self._rematch.pop(upload_id, None)

    def get_seen(self, upload_id: int) -> SeenUpload:
        """One seen upload."""
        try:
            return self._seen[upload_id]
        except KeyError:
            raise NotFoundError(f"no seen upload {upload_id}") from None

    def seen_with_digests(
        self,
        algorithm: HashAlgorithm,
        values: Sequence[str],
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[SeenUpload]:
        """Seen uploads with one of these digests, by id."""
        wanted = set(values)
        with self._lock:
            found = [
                u
                for i, u in sorted(self._seen.items())
                if i > after_id and u.digests.get(algorithm) in wanted
            ]
        return found if limit is None else found[:limit]

    def seen_hashes_after(self, after_id: int, limit: int) -> list[SeenHashes]:
        """The hashes of seen uploads after `after_id`, by id."""
        with self._lock:
            uploads = [u for i, u in sorted(self._seen.items()) if i > after_id][:limit]
        return [SeenHashes(u.upload_id, dict(u.digests), u.pdq) for u in uploads]

    def seen_pdq(self, after_id: int = 0, limit: int = 100_000) -> list[tuple[int, str]]:
        """``(upload_id, pdq)`` pairs after `after_id`."""
        with self._lock:
            rows = [(i, u.pdq) for i, u in sorted(self._seen.items()) if i > after_id and u.pdq]
        return [(i, p) for i, p in rows if p is not None][:limit]

    def count_seen(self) -> int:
        """Number of seen uploads."""
        return len(self._seen)

    def claim_hit(self, upload_id: int, list_name: str, entry_id: str) -> bool:
        """Record a hit once."""
        with self._lock:
            key = (upload_id, list_name, entry_id)
            if key in self._hits:
                return False
            self._hits.add(key)
            return True

    def add_quarantine(self, item: QuarantineItem) -> int:
        """Keep an item for review."""
        with self._lock:
            item_id = self._new_id()
            self._quarantine[item_id] = replace(item, item_id=item_id)
            return item_id

    def list_quarantine(self, limit: int = 100) -> list[QuarantineItem]:
        """Newest first."""
        return sorted(self._quarantine.values(), key=lambda q: -q.item_id)[:limit]

    def add_report(self, report: QueuedReport) -> int:
        """Queue a report."""
        with self._lock:
            report_id = self._new_id()
            self._reports[report_id] = replace(report, report_id=report_id)
            return report_id

    def get_report(self, report_id: int) -> QueuedReport:
        """One report."""
        try:
            return self._reports[report_id]
        except KeyError:
            raise NotFoundError(f"no report {report_id}") from None

    def list_reports(
        self, status: ReportStatus | None = None, limit: int = 100
    ) -> list[QueuedReport]:
        """Oldest first."""
        rows = sorted(self._reports.values(), key=lambda r: r.report_id)
        return [r for r in rows if status is None or r.status is status][:limit]

    def decide_report(
        self,
        report_id: int,
        status: ReportStatus,
        actor: str,
        note: str | None,
        at: datetime,
        audit: AuditEvent | None = None,
    ) -> QueuedReport:
        """Record a decision on a pending report (and its audit event, together)."""
        with self._lock:
            report = self.get_report(report_id)
            if report.status is not ReportStatus.PENDING:
                raise StorageError(f"report {report_id} was already {report.status.value}")
            decided = replace(
                report, status=status, decided_by=actor, decided_at=at, decision_note=note
            )
            self._reports[report_id] = decided
            if audit is not None:
                event_id = self._new_id()
                self._audit[event_id] = replace(audit, event_id=event_id)
            return decided

    def set_webhook_target(self, target: WebhookTarget) -> None:
        """Set a list's webhook."""
        with self._lock:
            self._targets[target.list_name] = target

    def get_webhook_target(self, list_name: str) -> WebhookTarget | None:
        """A list's webhook."""
        return self._targets.get(list_name)

    def remove_webhook_target(self, list_name: str) -> None:
        """Remove a list's webhook."""
        with self._lock:
            self._targets.pop(list_name, None)

    def cancel_delivery(self, delivery_id: int) -> WebhookDelivery:
        """Mark a pending delivery cancelled."""
        with self._lock:
            delivery = self._deliveries.get(delivery_id)
            if delivery is None:
                raise NotFoundError(f"no delivery {delivery_id}")
            if delivery.state is not DeliveryState.PENDING:
                raise StorageError(f"delivery {delivery_id} is {delivery.state.value}, not pending")
            cancelled = replace(delivery, state=DeliveryState.CANCELLED)
            self._deliveries[delivery_id] = cancelled
            return cancelled

    def add_delivery(self, delivery: WebhookDelivery) -> int:
        """Persist a delivery."""
        with self._lock:
            delivery_id = self._new_id()
            self._deliveries[delivery_id] = replace(delivery, delivery_id=delivery_id)
            return delivery_id

    def claim_due_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[WebhookDelivery]:
        """Lease due deliveries."""
        with self._lock:
            due = [
                d
                for d in sorted(self._deliveries.values(), key=lambda d: d.delivery_id)
                if d.state is DeliveryState.PENDING and d.next_attempt_at <= now
            ][:limit]
            for d in due:
                self._deliveries[d.delivery_id] = replace(d, next_attempt_at=lease_until)
            return due

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        """Save a delivery's state."""
        with self._lock:
            if delivery.delivery_id not in self._deliveries:
                raise NotFoundError(f"no delivery {delivery.delivery_id}")
            self._deliveries[delivery.delivery_id] = delivery

    def list_deliveries(self, limit: int = 100) -> list[WebhookDelivery]:
        """Newest first."""
        return sorted(self._deliveries.values(), key=lambda d: -d.delivery_id)[:limit]

    def add_audit(self, event: AuditEvent) -> int:
        """Append an audit event."""
        with self._lock:
            event_id = self._new_id()
            self._audit[event_id] = replace(event, event_id=event_id)
            return event_id

    def list_audit(self, limit: int = 100) -> Sequence[AuditEvent]:
        """Newest first."""
        return sorted(self._audit.values(), key=lambda e: -e.event_id)[:limit]
