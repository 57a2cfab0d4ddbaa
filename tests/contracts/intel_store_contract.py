"""The contract every `IntelStore` meets (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.links import Link, LinkKind, MergeRecord, Suppression
from safeguard.domain.intel.priority import Assessment, Band, Contribution, Override
from safeguard.domain.intel.referrals import EstimatedLocation
from safeguard.domain.intel.subjects import (
    IntelAuditEvent,
    Subject,
    SubjectExhibit,
    SubjectFacts,
    SubjectOrigin,
)
from safeguard.storage.intel_store import IntelStore
from tests.intel_factories import T0, email, ip, listed, referral, unlisted


def _subjects(store: IntelStore, count: int) -> list[Subject]:
    return store.create_subjects(
        [Subject(f"s{i}", SubjectOrigin.INTAKE, T0, "intake") for i in range(count)]
    )


class IntelStoreContract:
    @pytest.fixture
    def store(self) -> IntelStore:
        raise NotImplementedError

    def test_referral_round_trip_keeps_every_field(self, store: IntelStore) -> None:
        [subject] = _subjects(store, 1)
        original = replace(
            referral(
                "R1",
                [email("a"), ip("192.0.2.7", port=4444)],
                [listed("E1", "A"), unlisted("x")],
                annotations=["sextortion"],
                escalation="imminent",
                subject_id=subject.subject_id,
            ),
            grading=Grading.parse("1BC", "not to be shared outside the unit"),
            location=EstimatedLocation("Leeds", "West Yorkshire", "GB"),
            person_name="As Reported",
            prior_reports=("CT-1",),
        )
        [(stored, created)] = store.add_referrals([original])
        assert created
        assert stored.referral_id > 0
        assert store.referral(stored.referral_id) == stored
        assert store.referral_by_key(original.content_key) == stored
        assert store.referrals_of(subject.subject_id) == [stored]
        assert stored == replace(original, referral_id=stored.referral_id)

    def test_adding_the_same_content_key_changes_nothing(self, store: IntelStore) -> None:
        [subject] = _subjects(store, 1)
        first = referral("R1", [email("a")], subject_id=subject.subject_id)
        [(stored, _)] = store.add_referrals([first])
        again = store.add_referrals([first, first])
        assert again == [(stored, False), (stored, False)]
        assert store.referral_count() == 1
        assert store.known_content_keys([first.content_key, "nope"]) == {first.content_key}
        assert store.referrals_by_keys([first.content_key, "nope"]) == {first.content_key: stored}

    def test_key_observations_and_subjects_by_keys(self, store: IntelStore) -> None:
        a, b = _subjects(store, 2)
        store.add_referrals(
            [
                referral("R1", [email("x"), ip("192.0.2.1", 5, 80)], subject_id=a.subject_id),
                referral("R2", [email("x")], [listed("E9")], subject_id=b.subject_id),
            ]
        )
        found = store.subjects_by_keys(["email:x@example.com", "email:none@example.com"])
        assert found == {"email:x@example.com": a.subject_id}
        observations = sorted(
            (o.subject_id, o.kind, o.key, o.port) for o in store.key_observations()
        )
        assert observations == [
            (a.subject_id, "email", "email:x@example.com", None),
            (a.subject_id, "ip", "ip:192.0.2.1", 80),
            (b.subject_id, "email", "email:x@example.com", None),
            (b.subject_id, "image", "entry:demo-known-bad:E9", None),
        ]
        ip_times = [o.observed_at for o in store.key_observations() if o.kind == "ip"]
        assert ip_times == [T0 + timedelta(minutes=5)]
        assert store.referral_counts() == {a.subject_id: 1, b.subject_id: 1}

    def test_facts_and_exhibits(self, store: IntelStore) -> None:
        [subject] = _subjects(store, 1)
        facts = SubjectFacts(
            occupation="teacher",
            role_with_access_to_children=True,
            recorded_by="analyst",
            recorded_at=T0,
        )
        assert store.update_facts(subject.subject_id, facts).facts == facts
        assert store.subject(subject.subject_id).facts == facts
        exhibit = SubjectExhibit(subject.subject_id, "OP-1", "EXH-1", 100, 5, T0, "analyst")
        first = store.attach_exhibit(exhibit)
        again = store.attach_exhibit(replace(exhibit, known_bad_files=7))
        assert again.attachment_id == first.attachment_id
        assert [e.known_bad_files for e in store.exhibits_of(subject.subject_id)] == [7]
        assert len(store.all_exhibits()) == 1
        with pytest.raises(NotFoundError):
            store.subject(999)

    def test_merge_then_undo_restores_exactly(self, store: IntelStore) -> None:
        a, b = _subjects(store, 2)
        store.add_referrals(
            [
                referral("R1", [email("a")], subject_id=a.subject_id),
                referral("R2", [email("b")], subject_id=b.subject_id),
                referral("R3", [email("b2")], subject_id=b.subject_id),
            ]
        )
        store.attach_exhibit(SubjectExhibit(b.subject_id, "OP", "E1", 1, 1, T0, "x"))
        before = (
            store.subjects(include_merged=True),
            store.referrals_of(a.subject_id),
            store.referrals_of(b.subject_id),
            store.all_exhibits(),
        )
        record = store.merge_subjects(MergeRecord(a.subject_id, b.subject_id, "an", T0, "same"))
        assert len(record.moved_referrals) == 2
        assert store.subject(b.subject_id).merged_into == a.subject_id
        assert [s.subject_id for s in store.subjects()] == [a.subject_id]
        assert len(store.referrals_of(a.subject_id)) == 3
        with pytest.raises(StorageError):
            store.merge_subjects(MergeRecord(a.subject_id, b.subject_id, "an", T0, "again"))
        undone = store.undo_merge(record.merge_id, "sup", T0 + timedelta(hours=1), "wrong")
        assert not undone.active
        after = (
            store.subjects(include_merged=True),
            store.referrals_of(a.subject_id),
            store.referrals_of(b.subject_id),
            store.all_exhibits(),
        )
        assert after == before
        assert store.merges(b.subject_id) == [undone]
        with pytest.raises(StorageError, match="already split"):
            store.undo_merge(record.merge_id, "sup", T0, "again")

    def test_undo_refused_while_a_later_merge_builds_on_it(self, store: IntelStore) -> None:
        a, b, c = _subjects(store, 3)
        first = store.merge_subjects(MergeRecord(a.subject_id, b.subject_id, "x", T0, "r"))
        second = store.merge_subjects(MergeRecord(c.subject_id, a.subject_id, "x", T0, "r"))
        with pytest.raises(StorageError, match="split it first"):
            store.undo_merge(first.merge_id, "x", T0, "r")
        store.undo_merge(second.merge_id, "x", T0, "r")
        store.undo_merge(first.merge_id, "x", T0, "r")
        assert len(store.subjects()) == 3

    def test_links_and_suppressions(self, store: IntelStore) -> None:
        a, b, c = _subjects(store, 3)
        computed = Link(
            a.subject_id, b.subject_id, LinkKind.IMAGE, "entry:l:E", 0.4, (1, 2), "p", T0
        )
        analyst = store.add_link(
            Link(b.subject_id, c.subject_id, LinkKind.ANALYST, "analyst", 1.0, (), "why", T0, "an")
        )
        store.replace_computed_links([computed])
        store.replace_computed_links([computed])
        links = store.links()
        assert [(link.kind, link.pair) for link in links] == [
            (LinkKind.ANALYST, (b.subject_id, c.subject_id)),
            (LinkKind.IMAGE, (a.subject_id, b.subject_id)),
        ]
        assert links[1].evidence == (1, 2)
        assert [link.link_id for link in store.links(c.subject_id)] == [analyst.link_id]
        assert store.remove_link(analyst.link_id) == analyst
        with pytest.raises(NotFoundError):
            store.remove_link(links[1].link_id)
        made = store.add_suppression(Suppression(a.subject_id, b.subject_id, "an", T0, "no"))
        assert store.suppressions() == [made]
        lifted = store.lift_suppression(made.suppression_id, "sup", T0)
        assert store.suppressions() == []
        assert store.suppressions(active_only=False) == [lifted]

    def test_assessments_and_overrides(self, store: IntelStore) -> None:
        [subject] = _subjects(store, 1)
        contribution = Contribution("volume", "operational", 5, "12 known", Band.HIGH)
        first = Assessment(subject.subject_id, Band.LOW, 5, (contribution,), "r 1", "d" * 64, T0)
        store.save_assessments([first])
        second = replace(first, band=Band.MEDIUM, score=25)
        store.save_assessments([second])
        assert store.assessment(subject.subject_id) == second
        assert store.assessments() == [second]
        one = store.add_override(
            Override(subject.subject_id, Band.HIGH, Band.MEDIUM, "intel", "an", T0)
        )
        two = store.add_override(
            Override(subject.subject_id, Band.VERY_HIGH, Band.MEDIUM, "more", "an", T0)
        )
        history = store.overrides(subject.subject_id)
        assert [o.active for o in history] == [False, True]
        assert history[0].override_id == one.override_id
        cleared = store.clear_override(subject.subject_id, "sup", T0)
        assert cleared.override_id == two.override_id
        assert not cleared.active
        with pytest.raises(NotFoundError):
            store.clear_override(subject.subject_id, "sup", T0)

    def test_audit_is_kept_in_order(self, store: IntelStore) -> None:
        [subject] = _subjects(store, 1)
        store.append_audit(IntelAuditEvent(T0, "a", "x", subject.subject_id, {"k": "v"}))
        store.append_audit(IntelAuditEvent(T0, "b", "y"))
        assert [e.action for e in store.audit()] == ["x", "y"]
        [only] = store.audit(subject.subject_id)
        assert only.detail == {"k": "v"}
        assert only.event_id > 0
