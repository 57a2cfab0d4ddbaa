"""The package loop through the services, on the memory fake, SQLite and live PostgreSQL."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from safeguard.domain.cases import ExhibitKind
from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError, StorageError
from safeguard.domain.forces import NATIONAL_DESK
from safeguard.domain.package_content import Location, PackageContent
from safeguard.domain.package_outcomes import Outcome, SeizedDevice
from safeguard.domain.packages import PackageState
from safeguard.services.intel.package_documents import html_sha256
from safeguard.services.intel.packages import Override
from safeguard.services.intel.routing import AmbiguousRoutingError
from safeguard.services.intel.synthetic_dossiers import synthetic_dossier
from safeguard.storage.memory_cases import MemoryCaseStore
from safeguard.storage.memory_packages import MemoryPackageStore
from safeguard.storage.sql.case_store import SqlCaseStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.package_store import SqlPackageStore
from tests.conftest import private_postgres_database
from tests.package_support import (
    ANALYST,
    ANALYST_2,
    AUDITOR,
    ESSEX_CONTACT,
    KENT_CONTACT,
    KENT_OFFICER,
    SUPERVISOR,
    T0,
    FakeClock,
    PackageDesk,
    package_desk,
)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with private_postgres_database("sg_packages") as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PackageDesk]:
    if request.param == "memory":
        yield package_desk(MemoryPackageStore(), MemoryCaseStore())
        return
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'packages.db'}")
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        with engine.begin() as conn:  # a clean slate per test on the module's database
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade_schema(engine)
    try:
        yield package_desk(SqlPackageStore(engine), SqlCaseStore(engine))
    finally:
        engine.dispose()


def _kent_subject(desk: PackageDesk, index: int = 1, band: str = "Very High") -> str:
    dossier = synthetic_dossier(index, random.Random(index), force="kent")
    dossier = replace(dossier, risk=replace(dossier.risk, band=band, computed_band=band))
    return desk.dossiers.add(dossier).reference


def _sent_to_kent(desk: PackageDesk, band: str = "Very High") -> int:
    package = desk.packages.build(ANALYST, _kent_subject(desk, band=band))
    desk.dissemination.approve(SUPERVISOR, package.package_id)
    desk.dissemination.send(SUPERVISOR, package.package_id)
    return package.package_id


def test_whole_loop_and_dashboard_figures_equal_recorded_outcomes(desk: PackageDesk) -> None:
    package = desk.packages.build(ANALYST, _kent_subject(desk))
    assert (package.state, package.destination, package.reference) == (
        PackageState.DRAFT,
        "kent",
        "PKG-000001",
    )
    # Drafts stay national: the force sees nothing yet.
    assert desk.packages.listing(KENT_CONTACT) == []
    desk.dissemination.approve(SUPERVISOR, package.package_id)
    sent = desk.dissemination.send(SUPERVISOR, package.reference)
    assert sent.state is PackageState.DISSEMINATED
    assert sent.issued_at == T0
    assert [p.reference for p in desk.packages.listing(KENT_CONTACT)] == ["PKG-000001"]
    desk.dissemination.acknowledge(KENT_CONTACT, package.package_id)
    case = desk.cases.create_case("KENT-001", "examiner", "seized on PKG-000001", T0)
    laptop = desk.cases.ensure_exhibit(
        case.case_id, "KS/1", "/evidence/ks1.e01", ExhibitKind.IMAGE_FILE, T0
    )
    desk.cases.ensure_exhibit(case.case_id, "KS/2", "/evidence/ks2", ExhibitKind.FOLDER, T0)
    run = desk.cases.start_run(laptop.exhibit_id, T0, "test", "examiner", ())
    desk.cases.finish_run(run.run_id, T0)
    outcome = desk.outcomes.record(
        KENT_OFFICER,
        package.package_id,
        Outcome(
            0,
            0,
            "",
            T0.date(),
            premises_searched=2,
            arrests=1,
            voluntary_interviews=1,
            charges=1,
            devices=(
                SeizedDevice("laptop", "KENT-001", "KS/1"),
                SeizedDevice("drive", "KENT-001", "KS/2"),  # registered, not yet scanned
                SeizedDevice("phone"),
            ),
            children_safeguarded=3,
            children_at_serious_risk=1,
            safeguarding_basis="in the care, custody or control of the suspect",
            registered_sex_offender=False,
        ),
    )
    assert (outcome.force, outcome.recorded_by) == ("kent", "kent.officer")
    desk.dissemination.action(KENT_OFFICER, package.package_id)
    closed = desk.dissemination.close(KENT_CONTACT, package.package_id)
    assert closed.state is PackageState.CLOSED

    for viewer in (SUPERVISOR, KENT_CONTACT):
        board = desk.dashboard.dashboard(viewer)
        assert board.national.arrests == 1
        assert board.national.premises_searched == 2
        assert board.national.children_safeguarded == 3
        assert board.national.children_at_serious_risk == 1
        assert board.national.devices_seized == 3
        assert board.national.devices_examined == 1  # counted from the completed scan
        assert board.national.packages == 1
        assert [k for k, _n, _f in board.by_force] == ["kent"]
        assert board.by_month[0][0] == "2026-03"
    # Another force's dashboard is empty.
    assert desk.dashboard.dashboard(ESSEX_CONTACT).national.arrests == 0


def test_other_forces_get_nothing_and_the_attempt_is_audited(desk: PackageDesk) -> None:
    package_id = _sent_to_kent(desk)
    assert desk.packages.listing(ESSEX_CONTACT) == []
    for attempt in (
        lambda: desk.packages.show(ESSEX_CONTACT, package_id),
        lambda: desk.packages.read(ESSEX_CONTACT, "PKG-000001"),
        lambda: desk.dissemination.acknowledge(ESSEX_CONTACT, package_id),
        lambda: desk.outcomes.history(ESSEX_CONTACT, package_id),
    ):
        with pytest.raises(NotFoundError) as raised:
            attempt()
        # Worded as for a package that does not exist.
        assert "no package" in str(raised.value)
    with pytest.raises(NotFoundError) as missing:
        desk.packages.show(ESSEX_CONTACT, 999)
    assert "no package" in str(missing.value)
    denied = [e for e in desk.store.events(package_id) if e.action == "denied"]
    assert {e.actor for e in denied} == {"essex.spoc"}
    assert len(denied) == 4


def test_four_eyes_author_cannot_approve(desk: PackageDesk) -> None:
    supervisor_built = desk.packages.build(SUPERVISOR, _kent_subject(desk))
    with pytest.raises(AccessDeniedError, match="second person"):
        desk.dissemination.approve(SUPERVISOR, supervisor_built.package_id)
    with pytest.raises(AccessDeniedError):
        desk.dissemination.approve(ANALYST, supervisor_built.package_id)  # not a supervisor
    with pytest.raises(InputError):
        desk.dissemination.send(SUPERVISOR, supervisor_built.package_id)  # not approved
    assert desk.store.package(supervisor_built.package_id).state is PackageState.DRAFT
    actions = [e.action for e in desk.store.events(supervisor_built.package_id)]
    assert actions.count("denied") == 2


def test_a_reviser_cannot_approve_either(desk: PackageDesk) -> None:
    package = desk.packages.build(ANALYST, _kent_subject(desk))
    desk.packages.revise(SUPERVISOR, package.package_id, notes="added context")
    with pytest.raises(AccessDeniedError):
        desk.dissemination.approve(SUPERVISOR, package.package_id)


def test_deadlines_by_band_and_overdue_flags_with_injected_clock(desk: PackageDesk) -> None:
    clock: FakeClock = desk.clock  # type: ignore[assignment]
    very_high = _sent_to_kent(desk, "Very High")
    low = desk.packages.build(ANALYST, _kent_subject(desk, 2, "Low"))
    desk.dissemination.approve(SUPERVISOR, low.package_id)
    desk.dissemination.send(SUPERVISOR, low.package_id)
    assert desk.store.package(very_high).due_at == T0.replace(day=3)
    assert desk.store.package(low.package_id).due_at == T0.replace(day=30)
    assert desk.dissemination.overdue(SUPERVISOR) == []
    clock.advance(hours=24, seconds=1)
    for side in (SUPERVISOR, KENT_CONTACT):
        assert [p.package_id for p in desk.dissemination.overdue(side)] == [very_high]
    assert desk.dissemination.overdue(ESSEX_CONTACT) == []
    board = desk.dashboard.dashboard(KENT_CONTACT)
    assert dict(board.workflow)["overdue"] == 1
    # Acting on it clears the flag.
    desk.dissemination.acknowledge(KENT_CONTACT, very_high)
    desk.dissemination.action(KENT_CONTACT, very_high)
    assert desk.dissemination.overdue(SUPERVISOR) == []
    clock.advance(days=28)
    assert [p.package_id for p in desk.dissemination.overdue(KENT_CONTACT)] == [low.package_id]


def test_versions_and_hashes_every_version_readable(desk: PackageDesk) -> None:
    package = desk.packages.build(ANALYST, _kent_subject(desk))
    v1 = desk.packages.read(ANALYST, package.package_id)
    assert v1.version.sha256 == hashlib.sha256(v1.version.content_json).hexdigest()
    assert v1.content == PackageContent.from_json(v1.version.content_json)
    # Nothing changed: no new version.
    assert desk.packages.revise(ANALYST, package.package_id).version == 1
    desk.dissemination.approve(SUPERVISOR, package.package_id)
    desk.dissemination.send(SUPERVISOR, package.package_id)
    issued = desk.store.versions(package.package_id)[0]
    assert issued.issued_at == T0
    assert issued.issued_html_sha256 == html_sha256(desk.packages.read(ANALYST, package.package_id))
    desk.dissemination.return_package(KENT_CONTACT, package.package_id, "address is out of date")
    assert desk.store.package(package.package_id).returned_reason == "address is out of date"
    revised = desk.packages.revise(
        ANALYST, package.package_id, override=Override("essex", "moved to Chelmsford")
    )
    assert (revised.version, revised.state, revised.destination) == (2, PackageState.DRAFT, "essex")
    versions = desk.packages.versions(AUDITOR, package.package_id)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].sha256 != versions[1].sha256
    for v in versions:
        view = desk.packages.read(AUDITOR, package.package_id, v.number)
        assert view.hash_matches
    assert desk.packages.read(AUDITOR, package.package_id, 1).content.destination == "kent"
    # Re-routed to Essex and back in draft: Kent no longer sees it at all.
    with pytest.raises(NotFoundError):
        desk.packages.read(KENT_CONTACT, package.package_id)


def test_return_needs_a_reason_and_only_a_contact_returns(desk: PackageDesk) -> None:
    package_id = _sent_to_kent(desk)
    with pytest.raises(InputError):
        desk.dissemination.return_package(KENT_CONTACT, package_id, " ")
    with pytest.raises(AccessDeniedError):
        desk.dissemination.return_package(KENT_OFFICER, package_id, "not ours")
    returned = desk.dissemination.return_package(KENT_CONTACT, package_id, "not ours")
    assert returned.state is PackageState.RETURNED
    assert desk.packages.show(KENT_CONTACT, package_id).returned_reason == "not ours"


def test_every_view_and_change_is_audited(desk: PackageDesk) -> None:
    package_id = _sent_to_kent(desk)
    desk.packages.listing(KENT_CONTACT)
    desk.packages.show(KENT_CONTACT, package_id)
    for fmt in ("html", "json"):
        desk.documents.document(KENT_CONTACT, package_id, fmt)
    desk.packages.versions(AUDITOR, package_id)
    events = desk.store.events()
    assert [e.action for e in events] == [
        "built",
        "approved",
        "disseminated",
        "listed",
        "viewed",
        "viewed",
        "viewed",
        "viewed",
    ]
    views = [e for e in events if e.action == "viewed" and e.actor == "kent.spoc"]
    assert [e.detail.get("format") for e in views] == [None, "html", "json"]
    assert all(e.at == T0 for e in events)
    assert events[2].detail["destination"] == "kent"


def test_documents_carry_handling_and_no_images(desk: PackageDesk) -> None:
    ref = _kent_subject(desk)
    dossier = desk.dossiers.dossiers[ref]
    conditional = replace(
        dossier.referrals[0], handling_code="C", conditions="Originator consent needed."
    )
    desk.dossiers.add(replace(dossier, referrals=(conditional,)))
    package = desk.packages.build(ANALYST, ref)
    _view, html, media = desk.documents.document(ANALYST, package.package_id, "html")
    page = html.decode()
    assert media.startswith("text/html")
    assert page.count("Originator consent needed.") >= 2  # every-page header and screen banner
    assert "<img" not in page
    assert "data:image" not in page
    _view, body, _media = desk.documents.document(ANALYST, package.package_id, "json")
    assert b'"code": "C"' in body


def test_ambiguous_and_desk_routing_when_building(desk: PackageDesk) -> None:
    ref = _kent_subject(desk)
    dossier = desk.dossiers.dossiers[ref]
    desk.dossiers.add(replace(dossier, location=Location(postcode="EC1A")))
    with pytest.raises(AmbiguousRoutingError):
        desk.packages.build(ANALYST, ref)
    built = desk.packages.build(ANALYST, ref, override=Override("metropolitan", "known address"))
    assert built.routing.reason == "known address"
    assert built.routing.decided_by == "ana.analyst"
    desk.dossiers.add(replace(dossier, location=Location()))
    assert desk.packages.build(ANALYST_2, ref).destination == NATIONAL_DESK


def test_outcomes_rules(desk: PackageDesk) -> None:
    package_id = _sent_to_kent(desk)
    blank = Outcome(0, 0, "", T0.date(), arrests=1)
    with pytest.raises(InputError, match="acknowledge"):
        desk.outcomes.record(KENT_CONTACT, package_id, blank)
    desk.dissemination.acknowledge(KENT_CONTACT, package_id)
    with pytest.raises(AccessDeniedError):
        desk.outcomes.record(SUPERVISOR, package_id, blank)
    with pytest.raises(InputError, match="no forensic case"):
        desk.outcomes.record(
            KENT_CONTACT, package_id, replace(blank, devices=(SeizedDevice("phone", "NOPE"),))
        )
    with pytest.raises(InputError, match="basis"):
        Outcome(0, 0, "", T0.date(), children_safeguarded=1)
    with pytest.raises(InputError):
        Outcome(
            0,
            0,
            "",
            T0.date(),
            children_safeguarded=1,
            children_at_serious_risk=2,
            safeguarding_basis="x",
        )
    desk.outcomes.record(KENT_CONTACT, package_id, blank)
    desk.outcomes.record(KENT_CONTACT, package_id, replace(blank, arrests=2))
    assert [o.arrests for o in desk.outcomes.history(SUPERVISOR, package_id)] == [1, 2]
    assert desk.dashboard.dashboard(SUPERVISOR).national.arrests == 2  # the latest counts


def test_compare_and_set_refuses_a_stale_update(desk: PackageDesk) -> None:
    package = desk.packages.build(ANALYST, _kent_subject(desk))
    desk.dissemination.approve(SUPERVISOR, package.package_id)
    with pytest.raises(StorageError):
        desk.store.update_package(package, PackageState.DRAFT)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_desk(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[PackageDesk, Engine]]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'packages.db'}")
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade_schema(engine)
    try:
        yield package_desk(SqlPackageStore(engine), SqlCaseStore(engine)), engine
    finally:
        engine.dispose()


def test_sql_audit_outcomes_and_versions_are_append_only(
    sql_desk: tuple[PackageDesk, Engine],
) -> None:
    desk, engine = sql_desk
    _sent_to_kent(desk)
    for statement in (
        "UPDATE package_events SET actor = 'x'",
        "DELETE FROM package_events",
        "UPDATE package_versions SET content = '{}'",
        "DELETE FROM package_versions",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))


def test_a_network_package_lists_the_linked_subjects(desk: PackageDesk) -> None:
    lead, other = _kent_subject(desk, 1), _kent_subject(desk, 2)
    desk.dossiers.link(lead, other)
    package = desk.packages.build(ANALYST, lead, network=True)
    content = desk.packages.read(ANALYST, package.package_id).content
    assert content.network
    assert [m.reference for m in content.linked] == [other]
    assert desk.packages.build(ANALYST, lead).version == 1
    assert desk.packages.read(ANALYST, 2).content.linked == ()
