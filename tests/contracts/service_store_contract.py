"""Conformance suite for `ServiceStore`: subclass and provide a `store` fixture."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from safeguard.domain.cases import AuditEvent
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.hash_lists import ListKind, Provenance, category_for
from safeguard.domain.matches import Match
from safeguard.domain.service import (
    ApiKey,
    DeliveryState,
    QuarantineItem,
    QueuedReport,
    ReportStatus,
    Scope,
    SeenUpload,
    UploadContext,
    WebhookDelivery,
    WebhookTarget,
)
from safeguard.storage.service_store import SeenHashes, ServiceStore

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
MD5 = "0" * 31 + "1"
PDQ = "f" * 64


def a_match() -> Match:
    return Match(
        list_name="bad",
        list_kind=ListKind.KNOWN_BAD,
        entry_id="e1",
        algorithm=HashAlgorithm.PDQ,
        distance=4,
        threshold=31,
        query_quality=90,
        category=category_for("industry", "A1"),
        provenance=Provenance(source_record_id="r-1", series="s"),
    )


def a_seen(**changes: object) -> SeenUpload:
    values: dict[str, object] = {
        "received_at": T0,
        "digests": {HashAlgorithm.MD5: MD5},
        "pdq": PDQ,
        "pdq_quality": 90,
        "size": 10,
        "media_type": "image/jpeg",
        "context": UploadContext(content_id="c1", user_id="u1", ip_address="192.0.2.1"),
    }
    values.update(changes)
    return SeenUpload(**values)  # type: ignore[arg-type]


class ServiceStoreContract:
    @pytest.fixture
    def store(self) -> ServiceStore:
        raise NotImplementedError

    def test_keys_round_trip_and_revoke(self, store: ServiceStore) -> None:
        key = ApiKey("k1", "name", "a" * 64, frozenset({Scope.MATCH}), T0, rate_per_minute=5)
        store.add_key(key)
        assert store.get_key("k1") == key
        assert store.get_key("nope") is None
        with pytest.raises(StorageError):
            store.add_key(key)
        revoked = store.revoke_key("k1", T0 + timedelta(seconds=1))
        assert revoked.revoked_at == T0 + timedelta(seconds=1)
        assert [k.key_id for k in store.list_keys()] == ["k1"]
        with pytest.raises(NotFoundError):
            store.revoke_key("nope", T0)

    def test_seen_uploads_by_digest_and_pdq(self, store: ServiceStore) -> None:
        first = store.add_seen(a_seen(), None)
        second = store.add_seen(a_seen(digests={HashAlgorithm.SHA1: "1" * 40}, pdq=None), None)
        assert store.count_seen() == 2
        got = store.get_seen(first)
        assert got.upload_id == first
        assert got.context.ip_address == "192.0.2.1"
        assert got.received_at == T0
        assert [u.upload_id for u in store.seen_with_digests(HashAlgorithm.MD5, [MD5])] == [first]
        both = store.seen_with_digests(HashAlgorithm.SHA1, ["1" * 40, "2" * 40])
        assert [u.upload_id for u in both] == [second]
        assert store.seen_with_digests(HashAlgorithm.SHA256, []) == []
        assert store.seen_pdq() == [(first, PDQ)]
        assert store.seen_pdq(after_id=first) == []
        with pytest.raises(NotFoundError):
            store.get_seen(999)

    def test_seen_uploads_in_pages_after_a_cursor(self, store: ServiceStore) -> None:
        ids = store.add_seen_many([a_seen() for _ in range(5)], None)
        assert [u.upload_id for u in store.seen_hashes_after(0, 2)] == ids[:2]
        assert [u.upload_id for u in store.seen_hashes_after(ids[1], 10)] == ids[2:]
        assert store.seen_hashes_after(ids[-1], 10) == []
        page = store.seen_with_digests(HashAlgorithm.MD5, [MD5], after_id=ids[0], limit=2)
        assert [u.upload_id for u in page] == ids[1:3]
        assert store.seen_hashes_after(0, 1) == [SeenHashes(ids[0], {HashAlgorithm.MD5: MD5}, PDQ)]

    def test_rows_matched_before_the_list_revision_owe_a_rematch(self, store: ServiceStore) -> None:
        # The store's list revision is 0 here (no list change yet): -1 is older.
        ids = store.add_seen_many([a_seen() for _ in range(3)], revisions=[-1, 0, -1])
        assert [u.upload_id for u in store.seen_to_rematch(10)] == [ids[0], ids[2]]
        assert [u.upload_id for u in store.seen_to_rematch(1)] == [ids[0]]
        assert store.seen_to_rematch(10)[0].context.ip_address == "192.0.2.1"
        assert store.add_seen_many([a_seen()], None) != []  # no revisions: never marked
        store.mark_rematched([ids[0], ids[1]])  # ids[1] had no mark: nothing happens
        assert [u.upload_id for u in store.seen_to_rematch(10)] == [ids[2]]
        store.mark_rematched([ids[2], ids[2]])
        assert store.seen_to_rematch(10) == []
        assert store.count_seen() == 4

    def test_a_row_written_alone_owes_a_rematch_as_in_a_batch(self, store: ServiceStore) -> None:
        # The store's list revision is 0 here (no list change yet): -1 is older.
        older = store.add_seen(a_seen(), -1)
        store.add_seen(a_seen(), 0)
        store.add_seen(a_seen(), None)  # not matched: never marked
        [marked] = store.seen_to_rematch(10)
        assert marked.upload_id == older
        assert marked.context.ip_address == "192.0.2.1"
        store.mark_rematched([older])
        assert store.seen_to_rematch(10) == []
        assert store.count_seen() == 3

    def test_hits_are_claimed_once(self, store: ServiceStore) -> None:
        assert store.claim_hit(1, "bad", "e1") is True
        assert store.claim_hit(1, "bad", "e1") is False
        assert store.claim_hit(1, "bad", "e2") is True

    def test_quarantine_and_reports(self, store: ServiceStore) -> None:
        item_id = store.add_quarantine(QuarantineItem(1, T0, (a_match(),), retroactive=True))
        [item] = store.list_quarantine()
        assert item.item_id == item_id
        assert item.matches == (a_match(),)
        assert item.retroactive
        report = QueuedReport(
            upload_id=1,
            created_at=T0,
            matches=(a_match(),),
            file_hashes={"MD5": MD5},
            incident_at=T0,
            reported_user="u1",
            ip_address="192.0.2.1",
            industry_classification="A1",
        )
        report_id = store.add_report(report)
        stored = store.get_report(report_id)
        assert stored.matches == (a_match(),)
        assert stored.incident_at == T0
        assert stored.status is ReportStatus.PENDING
        assert [r.report_id for r in store.list_reports(ReportStatus.PENDING)] == [report_id]
        decided = store.decide_report(report_id, ReportStatus.CONFIRMED, "alice", "ok", T0)
        assert decided.status is ReportStatus.CONFIRMED
        assert decided.decided_by == "alice"
        assert store.list_reports(ReportStatus.PENDING) == []
        with pytest.raises(StorageError):
            store.decide_report(report_id, ReportStatus.DISMISSED, "bob", None, T0)
        with pytest.raises(NotFoundError):
            store.get_report(12345)

    def test_decision_is_audited_with_it_or_not_at_all(self, store: ServiceStore) -> None:
        from safeguard.domain.errors import StorageError as _StorageError
        from safeguard.services.platform.report_review import ReportReview

        report_id = store.add_report(
            QueuedReport(upload_id=1, created_at=T0, matches=(a_match(),), file_hashes={})
        )
        review = ReportReview(store, clock=lambda: T0)
        decided = review.decide(report_id, ReportStatus.DISMISSED, "alice", "false match")
        assert decided.decided_at == T0
        (event,) = store.list_audit()
        assert (event.action, event.actor, event.at) == ("report.dismissed", "alice", T0)
        assert event.detail == {"report_id": str(report_id)}
        with pytest.raises(_StorageError):
            review.decide(report_id, ReportStatus.CONFIRMED, "bob")
        assert len(store.list_audit()) == 1  # a refused decision leaves no audit entry

    def test_webhook_deliveries_are_leased_once(self, store: ServiceStore) -> None:
        store.set_webhook_target(WebhookTarget("bad", "http://127.0.0.1:1/x", "s1"))
        store.set_webhook_target(WebhookTarget("bad", "http://127.0.0.1:1/y", "s2"))
        assert store.get_webhook_target("bad") == WebhookTarget("bad", "http://127.0.0.1:1/y", "s2")
        assert store.get_webhook_target("other") is None
        delivery_id = store.add_delivery(
            WebhookDelivery("bad", "http://127.0.0.1:1/y", "{}", T0, next_attempt_at=T0)
        )
        assert store.claim_due_deliveries(T0 - timedelta(seconds=1), T0, 10) == []
        [claimed] = store.claim_due_deliveries(T0, T0 + timedelta(seconds=60), 10)
        assert claimed.delivery_id == delivery_id
        # leased: a second dispatcher gets nothing until the lease ends
        assert store.claim_due_deliveries(T0 + timedelta(seconds=1), T0, 10) == []
        store.update_delivery(
            replace(claimed, state=DeliveryState.DELIVERED, attempts=1, delivered_at=T0)
        )
        [listed] = store.list_deliveries()
        assert listed.state is DeliveryState.DELIVERED
        assert listed.attempts == 1
        assert store.claim_due_deliveries(T0 + timedelta(days=1), T0, 10) == []

    def test_audit_newest_first(self, store: ServiceStore) -> None:
        store.add_audit(AuditEvent(T0, "a", "list.created", detail={"list": "x"}))
        store.add_audit(AuditEvent(T0, "b", "report.confirmed", detail={"report_id": "1"}))
        events = store.list_audit()
        assert [e.action for e in events] == ["report.confirmed", "list.created"]
        assert events[1].detail == {"list": "x"}
