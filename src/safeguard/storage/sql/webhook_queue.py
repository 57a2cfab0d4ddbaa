"""The matching service's webhooks in SQL: each list's target and the delivery queue.

Part of `SqlServiceStore` (its base class). A delivery is claimed by a conditional update
on its due time, so that of several workers only one sends it; a lease is a due time
moved to the lease's end, so a worker that dies leaves the delivery due again afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, insert, select, update

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.service import DeliveryState, WebhookDelivery, WebhookTarget
from safeguard.storage.sql.service_rows import delivery_from_row, delivery_values, new_id, utc
from safeguard.storage.sql.tables_service import (
    service_webhook_deliveries,
    service_webhook_targets,
)


class SqlWebhookQueue:
    """Webhook targets and deliveries on an engine at the current schema."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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

    def remove_webhook_target(self, list_name: str) -> None:
        """Remove a list's webhook."""
        table = service_webhook_targets
        with self._engine.begin() as conn:
            conn.execute(table.delete().where(table.c.list_name == list_name))

    def cancel_delivery(self, delivery_id: int) -> WebhookDelivery:
        """Mark a pending delivery cancelled (a conditional update: never a sent one)."""
        table = service_webhook_deliveries
        with self._engine.begin() as conn:
            result = conn.execute(
                update(table)
                .where(
                    and_(
                        table.c.delivery_id == delivery_id,
                        table.c.state == DeliveryState.PENDING.value,
                    )
                )
                .values(state=DeliveryState.CANCELLED.value)
            )
            row = conn.execute(select(table).where(table.c.delivery_id == delivery_id)).first()
        if row is None:
            raise NotFoundError(f"no delivery {delivery_id}")
        if result.rowcount != 1:
            raise StorageError(f"delivery {delivery_id} is {row.state}, not pending")
        return delivery_from_row(row)

    def add_delivery(self, delivery: WebhookDelivery) -> int:
        """Persist a delivery."""
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(service_webhook_deliveries).values(**delivery_values(delivery))
            )
            return new_id(result.inserted_primary_key)

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
                        table.c.next_attempt_at <= utc(now),
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
                    .values(next_attempt_at=utc(lease_until))
                )
            if result.rowcount == 1:
                claimed.append(delivery_from_row(row))
        return claimed

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        """Save a delivery's state."""
        table = service_webhook_deliveries
        with self._engine.begin() as conn:
            result = conn.execute(
                update(table)
                .where(table.c.delivery_id == delivery.delivery_id)
                .values(**delivery_values(delivery))
            )
        if result.rowcount != 1:
            raise NotFoundError(f"no delivery {delivery.delivery_id}")

    def list_deliveries(self, limit: int = 100) -> list[WebhookDelivery]:
        """Newest first."""
        table = service_webhook_deliveries
        with self._engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.delivery_id.desc()).limit(limit))
            return [delivery_from_row(r) for r in rows]
