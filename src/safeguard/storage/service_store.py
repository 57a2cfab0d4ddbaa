"""The matching service's storage port: keys, seen uploads, actions' records, audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from safeguard.domain.cases import AuditEvent
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.service import (
    ApiKey,
    QuarantineItem,
    QueuedReport,
    ReportStatus,
    SeenUpload,
    WebhookDelivery,
    WebhookTarget,
)


class SeenHashes(NamedTuple):
    """What matching needs of a seen upload: its id, digests and PDQ hash.

    A named tuple: a scan makes one per kept upload, and these are cheap to make.
    """

    upload_id: int
    digests: Mapping[HashAlgorithm, str]
    pdq: str | None


class ServiceStore(Protocol):
    """Persistent state of the matching service. Implementations must be thread-safe.

    Ids are assigned by the store and returned by the ``add_*`` methods. Methods that name
    a missing object raise `NotFoundError`.
    """

    # --- API keys -------------------------------------------------------------------
    def add_key(self, key: ApiKey) -> None:
        """Store a new key (its id must be unique)."""

    def get_key(self, key_id: str) -> ApiKey | None:
        """The key with this id, revoked or not; None when unknown."""

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey:
        """Mark a key revoked and return it."""

    # --- seen uploads (hashes only) -------------------------------------------------
    def add_seen(self, upload: SeenUpload, revision: int | None) -> int:
        """Record the hashes of an item the service has seen; returns its id.

        Args:
            upload: the item.
            revision: the list revision the item was matched at (None: it was not
                matched, and is never marked). Marked as for `add_seen_many`.
        """

    def add_seen_many(
        self, uploads: Sequence[SeenUpload], revisions: Sequence[int] | None
    ) -> list[int]:
        """Record many seen items in one transaction; returns their ids in order.

        Args:
            uploads: the items.
            revisions: the list revision each item was matched at (None: they were not
                matched, and are never marked). Those matched at an older revision than
                the list store's committed one at the time of the write are marked, in
                the same transaction, as owing a re-match (`seen_to_rematch`): a list
                change committed between their matching and their write re-matched the
                uploads stored then, which did not include them. The store decides that
                revision itself, so that no list change can commit unseen between its
                reading and the write's commit (a change being made meanwhile marks
                every item). A change committed after the write re-matches the items
                itself. Costs one small read in the write's transaction, and an update
                only for marked items.
        """

    def get_seen(self, upload_id: int) -> SeenUpload:
        """One seen upload."""

    def seen_with_digests(
        self,
        algorithm: HashAlgorithm,
        values: Sequence[str],
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[SeenUpload]:
        """Seen uploads whose cryptographic digest is one of `values` (canonical hex, ≤ 1000).

        By id, only those with an id above `after_id`, at most `limit` of them.
        """

    def seen_hashes_after(self, after_id: int, limit: int) -> list[SeenHashes]:
        """The hashes of up to `limit` seen uploads with an id above `after_id`, by id.

        Only what matching needs, so that a scan of every upload stays cheap.
        """

    def seen_pdq(self, after_id: int = 0, limit: int = 100_000) -> list[tuple[int, str]]:
        """``(upload_id, pdq)`` of seen uploads with a PDQ hash and id > `after_id`, by id."""

    def count_seen(self) -> int:
        """Number of seen uploads."""

    def seen_to_rematch(self, limit: int) -> list[SeenUpload]:
        """Up to `limit` seen uploads marked as owing a re-match (`add_seen_many`), by id."""

    def mark_rematched(self, upload_ids: Sequence[int]) -> None:
        """Clear the re-match marks of these uploads (those without one are left alone).

        Call it once each was matched against the lists as of a revision read after the
        mark was seen, and its hits claimed and acted on.
        """

    def claim_hit(self, upload_id: int, list_name: str, entry_id: str) -> bool:
        """Record that an upload matched a list entry; False if that was already recorded."""

    # --- quarantine and reports -----------------------------------------------------
    def add_quarantine(self, item: QuarantineItem) -> int:
        """Keep an item for review; returns its id."""

    def list_quarantine(self, limit: int = 100) -> list[QuarantineItem]:
        """Newest quarantined items first."""

    def add_report(self, report: QueuedReport) -> int:
        """Queue a drafted report; returns its id."""

    def get_report(self, report_id: int) -> QueuedReport:
        """One report."""

    def list_reports(
        self, status: ReportStatus | None = None, limit: int = 100
    ) -> list[QueuedReport]:
        """Reports, oldest first, optionally of one status."""

    def decide_report(
        self,
        report_id: int,
        status: ReportStatus,
        actor: str,
        note: str | None,
        at: datetime,
        audit: AuditEvent | None = None,
    ) -> QueuedReport:
        """Record a reviewer's decision on a pending report and return the report.

        With `audit`, the audit event is appended in the same transaction: both are stored,
        or neither.

        Raises:
            NotFoundError: no such report.
            StorageError: the report was already decided.
        """

    # --- webhooks -------------------------------------------------------------------
    def set_webhook_target(self, target: WebhookTarget) -> None:
        """Set (or replace) the webhook of a list."""

    def get_webhook_target(self, list_name: str) -> WebhookTarget | None:
        """The webhook of a list, if one is set."""

    def remove_webhook_target(self, list_name: str) -> None:
        """Remove a list's webhook (nothing happens when it has none)."""

    def add_delivery(self, delivery: WebhookDelivery) -> int:
        """Persist a delivery to make; returns its id."""

    def claim_due_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[WebhookDelivery]:
        """Pending deliveries due at `now`, leased to the caller until `lease_until`.

        A delivery is handed to one caller only, so several workers can share the queue.
        """

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        """Save a delivery's new state after an attempt."""

    def list_deliveries(self, limit: int = 100) -> list[WebhookDelivery]:
        """Newest deliveries first."""

    def cancel_delivery(self, delivery_id: int) -> WebhookDelivery:
        """Mark a pending delivery cancelled (it is never attempted again) and return it.

        Raises:
            NotFoundError: no such delivery.
            StorageError: it is not pending (delivered, failed or cancelled already).
        """

    # --- audit ----------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> int:
        """Append an audit event; returns its id."""

    def list_audit(self, limit: int = 100) -> Sequence[AuditEvent]:
        """Newest audit events first."""
