"""Webhook deliveries: signed, sent from a background thread, retried with back-off.

`ActionService` (`safeguard.services.platform.actions`) persists each delivery first;
`WebhookDispatcher` sends the due ones in a background thread, signed with HMAC-SHA256 over
``<timestamp>.<body>`` and retried with exponential back-off, so the answer to the platform
never waits for a webhook and a restart loses none.

Delivery is **at least once**: a worker that dies after the receiver accepted a delivery
but before recording it sends it again when its lease ends. Receivers drop repeats by the
``X-Safeguard-Delivery`` id and refuse signatures older than `REPLAY_WINDOW_SECONDS`
(`verify_signature` does both checks but the first). Each delivery goes to its list's
current URL, checked again at delivery time (`safeguard.services.platform.webhook_urls`); a pending
delivery can be cancelled.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from safeguard.domain.errors import ConfigurationError
from safeguard.domain.service import DeliveryState, WebhookDelivery
from safeguard.services.background_loop import BackgroundLoop
from safeguard.services.platform.webhook_sending import CheckedSender
from safeguard.storage.service_store import ServiceStore

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Safeguard-Signature"
"""``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the list's webhook secret."""
DELIVERY_HEADER = "X-Safeguard-Delivery"


def sign_body(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


REPLAY_WINDOW_SECONDS = 300
"""Receivers should refuse signatures whose timestamp is further than this from now."""


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = REPLAY_WINDOW_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `header` is a valid signature of `body` under `secret` (for receivers).

    The signed timestamp must be within `tolerance` seconds of `now` (the clock when
    None), so a captured delivery cannot be replayed later. Deliveries are at least once:
    receivers should also drop repeats by the ``X-Safeguard-Delivery`` id.
    """
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign_body(secret, timestamp, body), header)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookSender(Protocol):
    """Sends one POST; returns the HTTP status, raises `OSError` when no answer came."""

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST `body` to `url`."""
        ...


class WebhookDispatcher:
    """Sends queued webhook deliveries from a background thread, with back-off.

    Several processes may run one each: deliveries are leased in the store, so each is sent
    by one dispatcher at a time. After attempt ``n`` fails the next is due after
    ``min(max_delay, base_delay * 2**(n-1))`` seconds (plus up to 10 % jitter); after
    `max_attempts` the delivery is marked failed.
    """

    def __init__(
        self,
        store: ServiceStore,
        send: WebhookSender | None = None,
        clock: Callable[[], datetime] = _utcnow,
        base_delay: float = 1.0,
        max_delay: float = 600.0,
        max_attempts: int = 8,
        poll_interval: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        self._store = store
        self._send: WebhookSender = send if send is not None else CheckedSender()
        self._clock = clock
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_attempts = max_attempts
        self._timeout = timeout
        self._dispatcher = BackgroundLoop(
            "webhook-dispatcher", self._deliver_due, poll_interval, failure="webhook pass failed"
        )

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (without jitter)."""
        return float(min(self._max_delay, self._base_delay * 2 ** max(0, attempts - 1)))

    def run_due(self, limit: int = 50) -> int:
        """Attempt deliveries due now, once each; returns how many were attempted.

        Each delivery is leased just before its own attempt (one at a time), so a lease
        never runs out while earlier deliveries of the same pass are being sent, and one
        delivery's failure, whatever it is, never stops the others.
        """
        attempted = 0
        while attempted < limit:
            now = self._clock()
            lease = now + timedelta(seconds=self._timeout + 30)
            due = self._store.claim_due_deliveries(now, lease, limit=1)
            if not due:
                break
            attempted += 1
            try:
                self._attempt(due[0])
            except Exception as exc:  # e.g. the store failed saving it: retried after the lease
                logger.warning(
                    "webhook delivery %s could not be completed (%s)",
                    due[0].delivery_id,
                    type(exc).__name__,
                )
        return attempted

    def _attempt(self, delivery: WebhookDelivery) -> None:
        target = self._store.get_webhook_target(delivery.list_name)
        body = delivery.body.encode("utf-8")
        error: str | None
        if target is None:
            error = "the list no longer has a webhook"
        else:
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_body(target.secret, int(time.time()), body),
                DELIVERY_HEADER: str(delivery.delivery_id),
                "User-Agent": "safeguard-webhook/1",
            }
            try:
                # The list's current URL: fixing a list's URL fixes its queued deliveries.
                status = self._send(target.url, body, headers, self._timeout)
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except ConfigurationError as exc:
                error = f"destination refused: {exc}"
            except Exception as exc:  # every failure is this delivery's own
                error = type(exc).__name__
        attempts = delivery.attempts + 1
        now = self._clock()
        if error is None:
            updated = replace(
                delivery,
                attempts=attempts,
                state=DeliveryState.DELIVERED,
                delivered_at=now,
                last_error=None,
            )
        elif attempts >= self._max_attempts or target is None:
            # Also when the list lost its webhook: there is nowhere to send it.
            updated = replace(
                delivery, attempts=attempts, state=DeliveryState.FAILED, last_error=error
            )
            logger.warning("webhook delivery %s failed for good: %s", delivery.delivery_id, error)
        else:
            wait = self.delay_after(attempts) * (1 + random.random() / 10)
            updated = replace(
                delivery,
                attempts=attempts,
                last_error=error,
                next_attempt_at=now + timedelta(seconds=wait),
            )
        self._store.update_delivery(updated)

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._dispatcher.wake()

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        self._dispatcher.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread; pending deliveries stay in the store."""
        self._dispatcher.stop(timeout)

    def _deliver_due(self) -> None:
        while self.run_due() and not self._dispatcher.stopping:
            pass
