"""`ServiceStore` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from safeguard.domain.cases import AuditEvent, match_as_record, match_from_record
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.matches import Match
from safeguard.domain.service import (
    ApiKey,
    DeliveryState,
    QuarantineItem,
    QueuedReport,
    ReportStatus,
    SeenUpload,
    UploadContext,
    WebhookDelivery,
    WebhookTarget,
    parse_scopes,
)
from safeguard.storage.sql.tables_service import (
    service_api_keys,
    service_audit,
    service_hits,
    service_quarantine,
    service_reports,
    service_seen_uploads,
    service_webhook_deliveries,
    service_webhook_targets,
)

_DIGEST_COLUMNS = {
    HashAlgorithm.MD5: "md5",
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.SHA256: "sha256",
}


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything is stored in UTC, so reattach it.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _req_utc(value: datetime) -> datetime:
    result = _utc(value)
    assert result is not None
    return result


def _new_id(primary_key: Sequence[Any] | None) -> int:
    if not primary_key:
        raise StorageError("the database returned no id")
    return int(primary_key[0])


def _matches_text(matches: Sequence[Match]) -> str:
    return json.dumps([match_as_record(m) for m in matches])


def _matches_value(text: str) -> tuple[Match, ...]:
    return tuple(match_from_record(r) for r in json.loads(text))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _req_utc(value).isoformat()


def _from_iso(value: object) -> datetime | None:
    return None if not value else datetime.fromisoformat(str(value))


class SqlServiceStore:
    """A `ServiceStore` on an engine whose schema `upgrade_schema` has brought up."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # --- API keys -------------------------------------------------------------------
    def add_key(self, key: ApiKey) -> None:
        """Store a new key."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(service_api_keys).values(
                        key_id=key.key_id,
                        name=key.name,
                        secret_sha256=key.secret_sha256,
                        scopes=",".join(sorted(s.value for s in key.scopes)),
                        rate_per_minute=key.rate_per_minute,
                        created_at=_utc(key.created_at),
                        revoked_at=_utc(key.revoked_at),
                    )
                )
        except IntegrityError as exc:
            raise StorageError("duplicate key id") from exc

    @staticmethod
    def _key(row: Any) -> ApiKey:
        return ApiKey(
            key_id=row.key_id,
            name=row.name,
            secret_sha256=row.secret_sha256,
            scopes=parse_scopes(row.scopes),
            rate_per_minute=row.rate_per_minute,
            created_at=_req_utc(row.created_at),
            revoked_at=_utc(row.revoked_at),
        )

    def get_key(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(service_api_keys).where(service_api_keys.c.key_id == key_id)
            ).first()
        return None if row is None else self._key(row)

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(service_api_keys).order_by(service_api_keys.c.created_at))
            return [self._key(r) for r in rows]

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
                .values(revoked_at=_utc(at))
            )
        key = self.get_key(key_id)
        if key is None:
            raise NotFoundError(f"no API key {key_id!r}")
        return key

    # --- seen uploads ---------------------------------------------------------------
    def add_seen(self, upload: SeenUpload) -> int:
        """Record a seen upload."""
        ctx = upload.context
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(service_seen_uploads).values(
                    received_at=_utc(upload.received_at),
                    md5=upload.digests.get(HashAlgorithm.MD5),
                    sha1=upload.digests.get(HashAlgorithm.SHA1),
                    sha256=upload.digests.get(HashAlgorithm.SHA256),
                    pdq=upload.pdq,
                    pdq_quality=upload.pdq_quality,
                    size=upload.size,
                    media_type=upload.media_type,
                    content_id=ctx.content_id,
                    user_id=ctx.user_id,
                    screen_name=ctx.screen_name,
                    ip_address=ctx.ip_address,
                    uploaded_at=_utc(ctx.uploaded_at),
                    file_name=ctx.file_name,
                )
            )
            return _new_id(result.inserted_primary_key)

    @staticmethod
    def _seen(row: Any) -> SeenUpload:
        digests = {
            algo: getattr(row, column)
            for algo, column in _DIGEST_COLUMNS.items()
            if getattr(row, column)
        }
        return SeenUpload(
            upload_id=int(row.upload_id),
            received_at=_req_utc(row.received_at),
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
                uploaded_at=_utc(row.uploaded_at),
                file_name=row.file_name,
            ),
        )

    def get_seen(self, upload_id: int) -> SeenUpload:
        """One seen upload."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(service_seen_uploads).where(service_seen_uploads.c.upload_id == upload_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no seen upload {upload_id}")
        return self._seen(row)

    def seen_with_digests(
        self, algorithm: HashAlgorithm, values: Sequence[str]
    ) -> list[SeenUpload]:
        """Seen uploads with one of these digests."""
        column = _DIGEST_COLUMNS.get(algorithm)
        if column is None or not values:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(service_seen_uploads)
                .where(service_seen_uploads.c[column].in_(list(values)))
                .order_by(service_seen_uploads.c.upload_id)
            )
            return [self._seen(r) for r in rows]

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
                    created_at=_utc(item.created_at),
                    retroactive=item.retroactive,
                    matches=_matches_text(item.matches),
                )
            )
            return _new_id(result.inserted_primary_key)

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
                    created_at=_req_utc(r.created_at),
                    retroactive=bool(r.retroactive),
                    matches=_matches_value(r.matches),
                )
                for r in rows
            ]

    def add_report(self, report: QueuedReport) -> int:
        """Queue a report."""
        fields = {
            "incident_type": report.incident_type,
            "incident_at": _iso(report.incident_at),
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
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(service_reports).values(
                    upload_id=report.upload_id,
                    created_at=_utc(report.created_at),
                    status=report.status.value,
                    fields=json.dumps(fields),
                    decided_by=report.decided_by,
                    decided_at=_utc(report.decided_at),
                    decision_note=report.decision_note,
                )
            )
            return _new_id(result.inserted_primary_key)

    @staticmethod
    def _report(row: Any) -> QueuedReport:
        fields: Mapping[str, Any] = json.loads(row.fields)
        return QueuedReport(
            report_id=int(row.report_id),
            upload_id=int(row.upload_id),
            created_at=_req_utc(row.created_at),
            status=ReportStatus(row.status),
            decided_by=row.decided_by,
            decided_at=_utc(row.decided_at),
            decision_note=row.decision_note,
            incident_type=str(fields["incident_type"]),
            incident_at=_from_iso(fields.get("incident_at")),
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

    def get_report(self, report_id: int) -> QueuedReport:
        """One report."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(service_reports).where(service_reports.c.report_id == report_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no report {report_id}")
        return self._report(row)

    def list_reports(
        self, status: ReportStatus | None = None, limit: int = 100
    ) -> list[QueuedReport]:
        """Oldest first."""
        query = select(service_reports).order_by(service_reports.c.report_id).limit(limit)
        if status is not None:
            query = query.where(service_reports.c.status == status.value)
        with self._engine.connect() as conn:
            return [self._report(r) for r in conn.execute(query)]

    def decide_report(
        self, report_id: int, status: ReportStatus, actor: str, note: str | None, at: datetime
    ) -> QueuedReport:
        """Record a decision on a pending report."""
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
                    status=status.value, decided_by=actor, decided_at=_utc(at), decision_note=note
                )
            )
            changed = result.rowcount
        report = self.get_report(report_id)
        if changed != 1:
            raise StorageError(f"report {report_id} was already {report.status.value}")
        return report

    # --- webhooks -------------------------------------------------------------------
    def set_webhook_target(self, target: WebhookTarget) -> None:
        """Set a list's webhook."""
        table = service_webhook_targets
        with self._engine.begin() as conn:
            conn.execute(table.delete().where(table.c.list_name == target.list_name))
            conn.execute(
                insert(table).values(
                    list_name=target.list_name, url=target.url, secret=target.secret
                )
            )

    def get_webhook_target(self, list_name: str) -> WebhookTarget | None:
        """A list's webhook."""
        table = service_webhook_targets
        with self._engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.list_name == list_name)).first()
        return None if row is None else WebhookTarget(row.list_name, row.url, row.secret)

    def add_delivery(self, delivery: WebhookDelivery) -> int:
        """Persist a delivery."""
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(service_webhook_deliveries).values(**self._delivery_values(delivery))
            )
            return _new_id(result.inserted_primary_key)

    @staticmethod
    def _delivery_values(d: WebhookDelivery) -> dict[str, object]:
        return {
            "list_name": d.list_name,
            "url": d.url,
            "body": d.body,
            "created_at": _utc(d.created_at),
            "next_attempt_at": _utc(d.next_attempt_at),
            "attempts": d.attempts,
            "state": d.state.value,
            "last_error": d.last_error,
            "delivered_at": _utc(d.delivered_at),
        }

    @staticmethod
    def _delivery(row: Any) -> WebhookDelivery:
        return WebhookDelivery(
            delivery_id=int(row.delivery_id),
            list_name=row.list_name,
            url=row.url,
            body=row.body,
            created_at=_req_utc(row.created_at),
            next_attempt_at=_req_utc(row.next_attempt_at),
            attempts=int(row.attempts),
            state=DeliveryState(row.state),
            last_error=row.last_error,
            delivered_at=_utc(row.delivered_at),
        )

    def claim_due_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[WebhookDelivery]:
        """Lease due deliveries; a conditional update makes each claim exclusive."""
        table = service_webhook_deliveries
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(table)
                .where(
                    and_(
                        table.c.state == DeliveryState.PENDING.value,
                        table.c.next_attempt_at <= _utc(now),
                    )
                )
                .order_by(table.c.next_attempt_at)
                .limit(limit)
            ).all()
        claimed: list[WebhookDelivery] = []
        for row in rows:
            with self._engine.begin() as conn:
                result = conn.execute(
                    update(table)
                    .where(
                        and_(
                            table.c.delivery_id == row.delivery_id,
                            table.c.state == DeliveryState.PENDING.value,
                            table.c.next_attempt_at == row.next_attempt_at,
                        )
                    )
                    .values(next_attempt_at=_utc(lease_until))
                )
            if result.rowcount == 1:
                claimed.append(self._delivery(row))
        return claimed

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        """Save a delivery's state."""
        table = service_webhook_deliveries
        with self._engine.begin() as conn:
            result = conn.execute(
                update(table)
                .where(table.c.delivery_id == delivery.delivery_id)
                .values(**self._delivery_values(delivery))
            )
        if result.rowcount != 1:
            raise NotFoundError(f"no delivery {delivery.delivery_id}")

    def list_deliveries(self, limit: int = 100) -> list[WebhookDelivery]:
        """Newest first."""
        table = service_webhook_deliveries
        with self._engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.delivery_id.desc()).limit(limit))
            return [self._delivery(r) for r in rows]

    # --- audit ----------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> int:
        """Append an audit event."""
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(service_audit).values(
                    at=_utc(event.at),
                    actor=event.actor,
                    action=event.action,
                    detail=json.dumps(dict(event.detail)),
                )
            )
            return _new_id(result.inserted_primary_key)

    def list_audit(self, limit: int = 100) -> Sequence[AuditEvent]:
        """Newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(service_audit).order_by(service_audit.c.event_id.desc()).limit(limit)
            )
            return [
                AuditEvent(
                    event_id=int(r.event_id),
                    at=_req_utc(r.at),
                    actor=r.actor,
                    action=r.action,
                    detail={str(k): str(v) for k, v in json.loads(r.detail).items()},
                )
                for r in rows
            ]


__all__ = ["SqlServiceStore"]
