"""Per-list actions on a match: block, quarantine, report (queued for a person), webhook.

Actions run only for matches on known-bad lists; a list's ``action`` field names them,
comma-separated. Webhooks are persisted first and sent later by
`safeguard.services.platform.webhook_delivery.WebhookDispatcher` in a background thread, so
the answer to the platform never waits for a webhook and a restart loses none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from safeguard.domain.cases import match_as_record
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import INDUSTRY, HashList, ListKind
from safeguard.domain.matches import Match
from safeguard.domain.service import (
    ActionKind,
    QuarantineItem,
    QueuedReport,
    SeenUpload,
    WebhookDelivery,
    stored_actions,
)
from safeguard.storage.service_store import ServiceStore

logger = logging.getLogger(__name__)

_INDUSTRY_CODES = frozenset({"A1", "A2", "B1", "B2"})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What the actions of one item's matches did.

    Attributes:
        block: a matched list says the platform should block the item.
        quarantine_id: id of the quarantine record, if one was made.
        report_id: id of the queued report, if one was drafted.
        delivery_ids: ids of the queued webhook deliveries.
    """

    block: bool = False
    quarantine_id: int | None = None
    report_id: int | None = None
    delivery_ids: tuple[int, ...] = ()

    @property
    def actions(self) -> list[str]:
        """Names of the actions taken, in a stable order."""
        taken = []
        if self.block:
            taken.append(ActionKind.BLOCK.value)
        if self.quarantine_id is not None:
            taken.append(ActionKind.QUARANTINE.value)
        if self.report_id is not None:
            taken.append(ActionKind.REPORT.value)
        if self.delivery_ids:
            taken.append(ActionKind.WEBHOOK.value)
        return taken


def industry_classification(matches: Sequence[Match]) -> str | None:
    """The CyberTipline industry classification the matches' categories give, if any."""
    codes = sorted(
        m.category.code
        for m in matches
        if m.category.scheme == INDUSTRY and m.category.code in _INDUSTRY_CODES
    )
    return codes[0] if codes else None


def report_file_hashes(upload: SeenUpload) -> dict[str, str]:
    """``originalFileHash`` values (MD5, SHA1) plus SHA256 and PDQ for the report's details."""
    names = {HashAlgorithm.MD5: "MD5", HashAlgorithm.SHA1: "SHA1", HashAlgorithm.SHA256: "SHA256"}
    hashes = {
        label: upload.digests[algo] for algo, label in names.items() if algo in upload.digests
    }
    if upload.pdq:
        hashes["PDQ"] = upload.pdq
    return hashes


class ActionService:
    """Runs the actions of the lists an item matched."""

    def __init__(
        self,
        store: ServiceStore,
        clock: Callable[[], datetime] = _utcnow,
        on_webhook_queued: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_webhook_queued = on_webhook_queued

    def set_webhook_listener(self, listener: Callable[[], None] | None) -> None:
        """Call `listener` whenever a delivery is queued (to wake a dispatcher)."""
        self._on_webhook_queued = listener

    @staticmethod
    def blocks(matches: Sequence[Match], lists: Mapping[str, HashList]) -> bool:
        """True when a matched known-bad list has the block action (needs no store)."""
        for match in matches:
            hash_list = lists.get(match.list_name)
            if (
                hash_list is not None
                and hash_list.kind is ListKind.KNOWN_BAD
                and ActionKind.BLOCK in stored_actions(hash_list.action)[0]
            ):
                return True
        return False

    def act(
        self,
        upload: SeenUpload,
        matches: Sequence[Match],
        lists: Mapping[str, HashList],
        retroactive: bool = False,
    ) -> ActionOutcome:
        """Run every action the matched known-bad lists name, for one stored upload.

        Args:
            upload: the stored upload (its `upload_id` is set).
            matches: its matches.
            lists: the lists by name, for their actions and kinds.
            retroactive: True when the matches come from re-matching past uploads.
        """
        by_action: dict[ActionKind, list[Match]] = {kind: [] for kind in ActionKind}
        webhook_lists: dict[str, list[Match]] = {}
        for match in matches:
            hash_list = lists.get(match.list_name)
            if hash_list is None or hash_list.kind is not ListKind.KNOWN_BAD:
                continue
            known, unknown = stored_actions(hash_list.action)
            if unknown:
                # Stored before validation existed: act on the rest, never fail the match.
                logger.warning("list has unknown actions %s; ignored", ", ".join(unknown))
            for kind in known:
                by_action[kind].append(match)
                if kind is ActionKind.WEBHOOK:
                    webhook_lists.setdefault(match.list_name, []).append(match)
        now = self._clock()
        quarantine_id = None
        if by_action[ActionKind.QUARANTINE]:
            quarantine_id = self._store.add_quarantine(
                QuarantineItem(
                    upload_id=upload.upload_id,
                    created_at=now,
                    matches=tuple(by_action[ActionKind.QUARANTINE]),
                    retroactive=retroactive,
                )
            )
        report_id = None
        if by_action[ActionKind.REPORT]:
            report_id = self._store.add_report(
                self._draft_report(upload, by_action, now, retroactive)
            )
        delivery_ids = tuple(
            delivery_id
            for name, list_matches in webhook_lists.items()
            if (delivery_id := self._queue_webhook(upload, name, list_matches, now, retroactive))
        )
        if delivery_ids and self._on_webhook_queued is not None:
            self._on_webhook_queued()
        return ActionOutcome(
            block=bool(by_action[ActionKind.BLOCK]),
            quarantine_id=quarantine_id,
            report_id=report_id,
            delivery_ids=delivery_ids,
        )

    def _draft_report(
        self,
        upload: SeenUpload,
        by_action: Mapping[ActionKind, Sequence[Match]],
        now: datetime,
        retroactive: bool,
    ) -> QueuedReport:
        matches = tuple(by_action[ActionKind.REPORT])
        ctx = upload.context
        return QueuedReport(
            upload_id=upload.upload_id,
            created_at=now,
            matches=matches,
            file_hashes=report_file_hashes(upload),
            incident_at=ctx.uploaded_at or upload.received_at,
            reported_user=ctx.user_id,
            screen_name=ctx.screen_name,
            ip_address=ctx.ip_address,
            file_name=ctx.file_name,
            industry_classification=industry_classification(matches),
            retroactive=retroactive,
        )

    def _queue_webhook(
        self,
        upload: SeenUpload,
        list_name: str,
        matches: Sequence[Match],
        now: datetime,
        retroactive: bool,
    ) -> int:
        target = self._store.get_webhook_target(list_name)
        if target is None:
            logger.warning("list has the webhook action but no webhook URL; nothing sent")
            return 0
        body = json.dumps(
            {
                "event": "match",
                "retroactive": retroactive,
                "upload_id": upload.upload_id,
                "content_id": upload.context.content_id,
                "received_at": upload.received_at.isoformat(),
                "sha256": upload.digests.get(HashAlgorithm.SHA256),
                "list_name": list_name,
                "matches": [match_as_record(m) for m in matches],
            },
            sort_keys=True,
        )
        return self._store.add_delivery(
            WebhookDelivery(
                list_name=list_name, url=target.url, body=body, created_at=now, next_attempt_at=now
            )
        )
