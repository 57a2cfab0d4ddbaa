"""Intake, linking, merge/split and priorities on every store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguard.domain.errors import InputError, StorageError
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.priority import Band
from safeguard.storage.intel_store import IntelStore
from safeguard.storage.memory_intel import MemoryIntelStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.intel_store import SqlIntelStore
from tests.conftest import private_postgres_database
from tests.intel_factories import email, ip, listed, referral, unlisted
from tests.intel_stack import IntelStack, empty_intel_tables, intel_stack


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    # One database for the module (creating one per test costs seconds); emptied per test.
    with private_postgres_database("sg_intel_svc") as url:
        engine = make_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IntelStore]:
    if request.param == "memory":
        yield MemoryIntelStore()
        return
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'intel.db'}")
        upgrade_schema(engine)
        yield SqlIntelStore(engine)
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    empty_intel_tables(engine)
    yield SqlIntelStore(engine)
    engine.dispose()


@pytest.fixture
def stack(store: IntelStore) -> IntelStack:
    return intel_stack(store)


def screen(name: str) -> Identifier:
    return Identifier.of(IdentifierKind.SCREEN_NAME, name, service="Example Chat")


def population(count: int, prefix: str = "pop") -> list:
    """Unrelated referrals so that rarity has a population to measure against."""
    return [referral(f"{prefix}{i}", [email(f"{prefix}{i}")]) for i in range(count)]


def test_intake_resolves_accounts_and_is_idempotent(stack: IntelStack) -> None:
    first = stack.intake.ingest(
        [
            referral("R1", [email("a"), screen("@Alpha")]),
            referral("R2", [screen("alpha")], days=40),  # same account on the same service
            referral("R3", [email("b")]),
            referral("R4", []),  # nothing to resolve on: a subject of its own
        ]
    )
    assert len(first.added) == 4
    assert first.subjects_created == 3
    subject_of = {r.external_id: r.subject_id for r in first.added}
    assert subject_of["R1"] == subject_of["R2"] != subject_of["R3"]
    before = (stack.store.subjects(), sorted(stack.store.referral_counts().items()))
    again = stack.intake.ingest([referral("R2", [screen("alpha")], days=40)])
    assert again.added == []
    assert len(again.unchanged) == 1
    assert (stack.store.subjects(), sorted(stack.store.referral_counts().items())) == before
    later = stack.intake.ingest(
        [referral("R5", [Identifier.of(IdentifierKind.EMAIL, " A@Example.COM ")])]
    )
    assert later.added[0].subject_id == subject_of["R1"]


def test_rarity_weighting_and_viral_image_on_the_store(stack: IntelStack) -> None:
    referrals = population(200)  # the viral image in 20% of them: 40, over the cap of 25
    viral = listed("VIRAL")
    referrals = [
        referral(r.external_id, r.identifiers, [viral] if i % 5 == 0 else [])
        for i, r in enumerate(referrals)
    ]
    referrals += [
        referral("N1", [email("n1")], [listed("E1"), listed("E2"), viral]),
        referral("N2", [email("n2")], [listed("E1"), listed("E2")]),
    ]
    outcome = stack.intake.ingest(referrals)
    assert outcome.link_run is not None
    assert "entry:demo-known-bad:VIRAL" in outcome.link_run.too_common
    networks = stack.links.networks()
    n1 = next(r.subject_id for r in outcome.added if r.external_id == "N1")
    n2 = next(r.subject_id for r in outcome.added if r.external_id == "N2")
    assert [list(n.members) for n in networks] == [sorted([n1, n2])]
    keys = {link.key for link in networks[0].links}
    assert keys == {"entry:demo-known-bad:E1", "entry:demo-known-bad:E2"}


def test_ip_links_need_overlapping_times(stack: IntelStack) -> None:
    outcome = stack.intake.ingest(
        [
            *population(30),
            referral("I1", [email("i1"), ip("203.0.113.5", 0, 5000)]),
            referral("I2", [email("i2"), ip("203.0.113.5", 20, 5000)]),
            referral("I3", [email("i3"), ip("203.0.113.5", 600, 5000)]),  # ten hours later
            referral("I4", [email("i4"), ip("203.0.113.5", 10, 6000)]),  # other port: CGNAT
        ]
    )
    ids = {r.external_id: r.subject_id for r in outcome.added}
    [network] = stack.links.networks()
    assert set(network.members) == {ids["I1"], ids["I2"]}


def _state(stack: IntelStack) -> tuple:
    store = stack.store
    return (
        store.subjects(include_merged=True),
        sorted((r.referral_id, r.subject_id) for r in store.all_referrals()),
        sorted(
            (link.pair, link.kind, link.key, link.weight, link.evidence) for link in store.links()
        ),
        [(a.subject_id, a.band, a.score, a.contributions) for a in store.assessments()],
        [n.members for n in stack.links.networks()],
        store.all_exhibits(),
    )


def test_merge_then_split_restores_the_exact_earlier_state(stack: IntelStack) -> None:
    outcome = stack.intake.ingest(
        [
            *population(20),
            referral("A1", [email("a")], [listed("E1"), listed("E2")], days=1),
            referral("A2", [email("a")], [unlisted("new")], days=50),
            referral("B1", [email("b")], [listed("E1"), listed("E2")]),
            referral("C1", [email("c")], [listed("E3")], escalation="live abuse"),
        ]
    )
    ids = {r.external_id: r.subject_id for r in outcome.added}
    a, c = ids["A1"], ids["C1"]
    stack.subjects.record_facts(
        c, "analyst", occupation="scout leader", role_with_access_to_children=True
    )
    before = _state(stack)
    record = stack.subjects.merge(a, c, "analyst", "same person: shared device seen in custody")
    merged = _state(stack)
    assert merged != before
    assert stack.store.subject(c).merged_into == a
    assert len(stack.store.referrals_of(a)) == 3
    stack.subjects.split(record.merge_id, "supervisor", "custody record was another person")
    assert _state(stack) == before
    actions = [e.action for e in stack.store.audit(c)]
    assert actions[-2:] == ["subjects.merged", "subjects.split"]
    split_event = stack.store.audit(c)[-1]
    assert split_event.actor == "supervisor"
    assert split_event.detail["reason"] == "custody record was another person"
    with pytest.raises(StorageError):
        stack.subjects.split(record.merge_id, "supervisor", "again")
    with pytest.raises(InputError):
        stack.subjects.merge(a, c, "analyst", " ")


def test_band_explanation_names_every_factor_and_its_tool(stack: IntelStack) -> None:
    outcome = stack.intake.ingest(
        [
            referral(
                "T1",
                [email("t")],
                [listed("E1", "A"), unlisted("fresh")],
                annotations=["sextortion"],
                escalation="child at risk",
            ),
            referral("T2", [email("t")], [listed("E2")], days=45),
        ]
    )
    subject = outcome.added[0].subject_id
    assert subject is not None
    stack.subjects.record_facts(
        subject, "analyst", occupation="teacher", role_with_access_to_children=True
    )
    record = stack.subjects.record(subject)
    assessment = record.priority.assessment
    assert assessment is not None
    points = {c.factor: c.points for c in assessment.contributions}
    assert points["access_to_children"] == 25
    assert points["contact_offending"] == 15
    assert points["production"] == 20
    assert points["escalation"] == 10
    assert points["severity"] == 15
    assert points["repeat_referrals"] == 10
    assert points["prior_sexual_offending"] == 0
    assert assessment.score == sum(points.values())
    assert assessment.band is Band.VERY_HIGH
    tools = {c.factor: c.tool for c in assessment.contributions}
    assert tools["access_to_children"].startswith("KIRAT")
    assert "CPORT" in tools["severity"]
    assert tools["volume"].startswith("operational")
    assert not [c for c in assessment.contributions if c.factor == "floor"]  # not needed
    assert assessment.rules_version == "safeguard-priority 1.0"
    assert len(assessment.rules_digest) == 64


def test_override_keeps_both_bands_and_is_audited(stack: IntelStack) -> None:
    outcome = stack.intake.ingest([referral("O1", [email("o")], [listed("E1")])])
    subject = outcome.added[0].subject_id
    assert subject is not None
    assert stack.priorities.priority(subject).band is Band.LOW
    made = stack.priorities.override(subject, Band.HIGH, "analyst", "lives with two children")
    shown = stack.priorities.priority(subject)
    assert (shown.band, shown.computed_band) == (Band.HIGH, Band.LOW)
    assert made.computed_band is Band.LOW
    [top] = stack.subjects.ranked(overridden=True)
    assert top.subject.subject_id == subject
    event = stack.store.audit(subject)[-1]
    assert (event.action, event.actor) == ("band.overridden", "analyst")
    assert event.detail == {
        "band": "High",
        "computed_band": "Low",
        "reason": "lives with two children",
    }
    with pytest.raises(InputError):
        stack.priorities.override(subject, Band.LOW, "analyst", "")
    stack.priorities.clear_override(subject, "supervisor", "facts recorded instead")
    assert stack.priorities.priority(subject).band is Band.LOW
    assert [o.active for o in stack.store.overrides(subject)] == [False]
    assert stack.store.audit(subject)[-1].action == "band.override_withdrawn"


def test_analyst_link_and_unlink(stack: IntelStack) -> None:
    outcome = stack.intake.ingest(
        [*population(20), referral("L1", [email("l1")]), referral("L2", [email("l2")])]
    )
    ids = {r.external_id: r.subject_id for r in outcome.added}
    a, b = ids["L1"], ids["L2"]
    stack.links.link(a, b, "analyst", "seen together in custody record")
    assert [set(n.members) for n in stack.links.networks()] == [{a, b}]
    stack.links.unlink(a, b, "supervisor", "different people")
    assert stack.links.networks() == []
    assert [e.action for e in stack.store.audit(a)] == ["subjects.linked", "subjects.unlinked"]


def test_a_floor_raises_the_band_and_says_why(stack: IntelStack) -> None:
    outcome = stack.intake.ingest([referral("F1", [email("f")], annotations=["csamSolicitation"])])
    subject = outcome.added[0].subject_id
    assert subject is not None
    assert stack.priorities.priority(subject).band is Band.LOW
    stack.subjects.record_facts(subject, "analyst", children_in_household=2)
    assessment = stack.priorities.priority(subject).assessment
    assert assessment is not None
    assert assessment.score == 35  # Medium by score alone
    assert assessment.band is Band.VERY_HIGH
    [floor] = [c for c in assessment.contributions if c.factor == "floor"]
    assert floor.minimum_band is Band.VERY_HIGH
    assert floor.reason == "access_to_children + contact_offending present: at least Very High"
