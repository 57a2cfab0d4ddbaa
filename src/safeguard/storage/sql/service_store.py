"""`ServiceStore` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from safeguard.domain.cases import AuditEvent
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.service import (
    ApiKey,
    QuarantineItem,
    QueuedReport,
    ReportStatus,
    SeenUpload,
)
from safeguard.storage.service_store import SeenHashes
from safeguard.storage.sql import seen_rematch
from safeguard.storage.sql.service_rows import (
    DIGEST_COLUMNS,
    key_from_row,
    key_values,
    matches_text,
    matches_value,
    new_id,
    report_from_row,
    report_values,
    required_utc,
    seen_from_row,
    seen_values,
    utc,
)
from safeguard.storage.sql.tables_service import (
    service_api_keys,
    service_audit,
    service_hits,
    service_quarantine,
    service_reports,
    service_seen_uploads,
)
from safeguard.storage.sql.webhook_queue import SqlWebhookQueue


class SqlServiceStore(SqlWebhookQueue):
    """A `ServiceStore` on an engine whose schema `upgrade_schema` has brought up.

    The webhook targets and the delivery queue are `SqlWebhookQueue`'s part.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)

    # --- API keys -------------------------------------------------------------------
    def add_key(self, key: ApiKey) -> None:
        """Store a new key."""
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(service_api_keys).values(**key_values(key)))
        except IntegrityError as exc:
            raise StorageError("duplicate key id") from exc

    def get_key(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(service_api_keys).where(service_api_keys.c.key_id == key_id)
            ).first()
        return None if row is None else key_from_row(row)

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(service_api_keys).order_by(service_api_keys.c.created_at))
            return [key_from_row(r) for r in rows]

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey:
        """Mark a key revoked."""
        with self._engine.begin() as conn:
            conn.execute(
                update(service_api_keys)
                .where(
                    and_(
                        service_api_keys.c.key_id == key_id, service_api_keys.c.revoked_at.is_(None)
                    )
                )
                .values(revoked_at=utc(at))
            )
        key = self.get_key(key_id)
        if key is None:
            raise NotFoundError(f"no API key {key_id!r}")
        return key

    # --- seen uploads ---------------------------------------------------------------
    def add_seen(self, upload: SeenUpload, revision: int | None) -> int:
        """Record a seen upload; with `revision`, marked if it owes a re-match (`seen_rematch`)."""
        with self._engine.begin() as conn:
            result = conn.execute(insert(service_seen_uploads).values(**seen_values(upload)))
            upload_id = new_id(result.inserted_primary_key)
            if revision is not None:
                seen_rematch.mark_stale(conn, [upload_id], [revision])
            return upload_id

    def add_seen_many(
        self, uploads: Sequence[SeenUpload], revisions: Sequence[int] | None
    ) -> list[int]:
        """Record many seen uploads in one transaction (one multi-row insert).

        With `revisions`, those owing a re-match are marked in it (`seen_rematch`).
        """
        if not uploads:
            return []
        statement = insert(service_seen_uploads).returning(
            service_seen_uploads.c.upload_id, sort_by_parameter_order=True
        )
        with self._engine.begin() as conn:
            rows = conn.execute(statement, [seen_values(u) for u in uploads])
            ids = [int(row[0]) for row in rows]
            if revisions is not None:
                seen_rematch.mark_stale(conn, ids, revisions)
            return ids

    def seen_to_rematch(self, limit: int) -> list[SeenUpload]:
        """Seen uploads marked as owing a re-match, by id."""
        return seen_rematch.marked(self._engine, limit)

    def mark_rematched(self, upload_ids: Sequence[int]) -> None:
        """Clear the re-match marks of these uploads."""
        seen_rematch.clear(self._engine, upload_ids)

    def get_seen(self, upload_id: int) -> SeenUpload:
        """One seen upload."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(service_seen_uploads).where(service_seen_uploads.c.upload_id == upload_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no seen upload {upload_id}")
        return seen_from_row(row)

    def seen_with_digests(
        self,
        algorithm: HashAlgorithm,
        values: Sequence[str],
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[SeenUpload]:
        """Seen uploads with one of these digests, by id."""
        column = DIGEST_COLUMNS.get(algorithm)
        if column is None or not values:
            return []
        table = service_seen_uploads
        query = (
            select(table)
            .where(and_(table.c[column].in_(list(values)), table.c.upload_id > after_id))
            .order_by(table.c.upload_id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [seen_from_row(r) for r in conn.execute(query)]

    def seen_hashes_after(self, after_id: int, limit: int) -> list[SeenHashes]:
        """The hashes of seen uploads after `after_id`, by id (five columns, not the row)."""
        table = service_seen_uploads
        columns = [table.c[column] for column in DIGEST_COLUMNS.values()]
        query = (
            select(table.c.upload_id, table.c.pdq, *columns)
            .where(table.c.upload_id > after_id)
            .order_by(table.c.upload_id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            SeenHashes(
                int(row[0]),
                {
                    algorithm: value
                    for algorithm, value in zip(DIGEST_COLUMNS, row[2:], strict=True)
                    if value
                },
                row[1],
            )
            for row in rows
        ]

    def seen_pdq(self, after_id: int = 0, limit: int = 100_000) -> list[tuple[int, str]]:
        """``(upload_id, pdq)`` pairs after `after_id`."""
        table = service_seen_uploads
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(table.c.upload_id, table.c.pdq)
                .where(and_(table.c.upload_id > after_id, table.c.pdq.is_not(None)))
                .order_by(table.c.upload_id)
                .limit(limit)
            )
            return [(int(r.upload_id), str(r.pdq)) for r in rows]

    def count_seen(self) -> int:
        """Number of seen uploads."""
        with self._engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(service_seen_uploads)).scalar_one()
            )

    def claim_hit(self, upload_id: int, list_name: str, entry_id: str) -> bool:
        """Record a hit once."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(service_hits).values(
                        upload_id=upload_id, list_name=list_name, entry_id=entry_id
                    )
                )
        except IntegrityError:
            return False
        return True

    # --- quarantine and reports -----------------------------------------------------
    def add_quarantine(self, item: QuarantineItem) -> int:
        """Keep an item for review."""
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(service_quarantine).values(
                    upload_id=item.upload_id,
                    created_at=utc(item.created_at),
                    retroactive=item.retroactive,
                    matches=matches_text(item.matches),
                )
            )
            return new_id(result.inserted_primary_key)

    def list_quarantine(self, limit: int = 100) -> list[QuarantineItem]:
        """Newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(service_quarantine)
                .order_by(service_quarantine.c.item_id.desc())
                .limit(limit)
            )
            return [
                QuarantineItem(
                    item_id=int(r.item_id),
                    upload_id=int(r.upload_id),
                    created_at=required_utc(r.created_at),
                    retroactive=bool(r.retroactive),
                    matches=matches_value(r.matches),
                )
                for r in rows
            ]

    def add_report(self, report: QueuedReport) -> int:
        """Queue a report."""
        with self._engine.begin() as conn:
            result = conn.execute(insert(service_reports).values(**report_values(report)))
            return new_id(result.inserted_primary_key)

    def get_report(self, report_id: int) -> QueuedReport:
        """One report."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(service_reports).where(service_reports.c.report_id == report_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no report {report_id}")
        return report_from_row(row)

    def list_reports(
        self, status: ReportStatus | None = None, limit: int = 100
    ) -> list[QueuedReport]:
        """Oldest first."""
        query = select(service_reports).order_by(service_reports.c.report_id).limit(limit)
        if status is not None:
            query = query.where(service_reports.c.status == status.value)
        with self._engine.connect() as conn:
            return [report_from_row(r) for r in conn.execute(query)]

    def decide_report(
        self,
        report_id: int,
        status: ReportStatus,
        actor: str,
        note: str | None,
        at: datetime,
        audit: AuditEvent | None = None,
    ) -> QueuedReport:
        """Record a decision on a pending report and its audit event, in one transaction."""
        table = service_reports
        with self._engine.begin() as conn:
            result = conn.execute(
                update(table)
                .where(
                    and_(
                        table.c.report_id == report_id,
                        table.c.status == ReportStatus.PENDING.value,
                    )
                )
                .values(
                    status=status.value, decided_by=actor, decided_at=utc(at), decision_note=note
                )
            )
            changed = result.rowcount
            if changed == 1 and audit is not None:
                conn.execute(
                    insert(service_audit).values(
                        at=utc(audit.at),
                        actor=audit.actor,
                        action=audit.action,
                        detail=json.dumps(dict(audit.detail)),
                    )
                )
        report = self.get_report(report_id)
        if changed != 1:
            raise StorageError(f"report {report_id} was already {report.status.value}")
        return report

    # --- audit ----------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> int:
        """Append an audit event."""
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(service_audit).values(
                    at=utc(event.at),
                    actor=event.actor,
                    action=event.action,
                    detail=json.dumps(dict(event.detail)),
                )
            )
            return new_id(result.inserted_primary_key)

    def list_audit(self, limit: int = 100) -> Sequence[AuditEvent]:
        """Newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(service_audit).order_by(service_audit.c.event_id.desc()).limit(limit)
            )
            return [
                AuditEvent(
                    event_id=int(r.event_id),
                    at=required_utc(r.at),
                    actor=r.actor,
                    action=r.action,
                    detail={str(k): str(v) for k, v in json.loads(r.detail).items()},
                )
                for r in rows
            ]


__all__ = ["SqlServiceStore"]
