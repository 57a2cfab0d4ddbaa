"""The demo's intelligence-package step: a small synthetic operation carried through.

Referrals with reserved identifiers (example.com, documentation IP ranges) and real public
postcodes go into the intelligence core; packages are built, approved by a second person,
sent to several forces, acknowledged, outcomes are recorded (one seized device linked to
the demo's forensic case), and the dashboard is written as a page and as CSV.

Everything happens at the services' clock, so the packages are issued today and the forces
act on them the same day: an outcome may not be dated before its package existed, so the
dashboard's figures over time show the one current month (the referrals themselves are
dated earlier in 2026, as they would arrive before any package is built).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.referrals import (
    EstimatedLocation,
    FileMatch,
    Referral,
    ReferralFile,
    ReferralSource,
    with_content_key,
)
from safeguard.domain.package_access import PackageRole, Viewer
from safeguard.domain.package_outcomes import Figures, Outcome, SeizedDevice
from safeguard.domain.packages import Package
from safeguard.reporting.operation_dashboard import dashboard_csv, render_dashboard_html
from safeguard.services.intel.dashboard import DashboardService
from safeguard.services.intel.dissemination import DisseminationService
from safeguard.services.intel.intake import IntakeService
from safeguard.services.intel.outcomes import OutcomeService
from safeguard.services.intel.packages import PackageService
from safeguard.services.intel.subjects import SubjectService

ANALYST = Viewer("demo:analyst", frozenset({PackageRole.NATIONAL_ANALYST}))
SUPERVISOR = Viewer("demo:supervisor", frozenset({PackageRole.NATIONAL_SUPERVISOR}))

# (mailbox, postcode, country, force or desk, grading)
_SUBJECTS = (
    ("north.kent", "CT1 2EH", "GB", "kent", "1AP"),
    ("thames.side", "SW1A 2AA", "GB", "metropolitan", "2BP"),
    ("city.road", "M1 1AE", "GB", "greater-manchester", "2BC"),
    ("old.town", "EH1 1AA", "GB", "scotland", "1BP"),
    ("lagan.view", "BT1 1AA", "GB", "northern-ireland", "2CP"),
    ("canal.walk", "B1 1BB", "GB", "west-midlands", "3CP"),
    ("no.fixed", "", "", "national-desk", "2DP"),
    ("abroad", "", "FR", "international-queue", "2CP"),
)


@dataclass(frozen=True, slots=True)
class PackageDemoOutcome:
    """What the package step made."""

    packages: tuple[Package, ...]
    dashboard_page: Path
    dashboard_csv: Path
    national: Figures


def _referral(index: int, mailbox: str, postcode: str, country: str, grade: str) -> Referral:
    at = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=index)
    identifiers = [
        Identifier.of(IdentifierKind.EMAIL, f"{mailbox}@example.com"),
        Identifier.of(IdentifierKind.IP_ADDRESS, f"198.51.100.{index + 10}", observed_at=at),
    ]
    if postcode:
        identifiers.append(Identifier.of(IdentifierKind.POSTCODE, postcode))
    conditions = "Do not disclose the reporting platform." if grade.endswith("C") else ""
    return with_content_key(
        Referral(
            source=ReferralSource.CYBERTIPLINE,
            external_id=f"DEMO-CT-{index:03d}",
            content_key="",
            received_at=at,
            grading=Grading.parse(grade, conditions),
            incident_type="Child Pornography (possession, manufacture, and distribution)",
            location=EstimatedLocation(country_code=country) if country else None,
            identifiers=tuple(identifiers),
            files=(
                ReferralFile(
                    name=f"stand-in-{index}.jpg",
                    hashes={"md5": f"{index:032x}"},
                    matches=(
                        FileMatch(
                            list_name="demo-known-bad",
                            entry_id=f"demo-{index}",
                            algorithm="md5",
                            list_version="demo-2026.11",
                            category_scheme="uk-sentencing",
                            category_code="C",
                            category_label="Category C",
                        ),
                    ),
                ),
            ),
        )
    )


def run_package_demo(
    folder: Path,
    intake: IntakeService,
    subjects: SubjectService,
    packages: PackageService,
    flow: DisseminationService,
    outcomes: OutcomeService,
    dashboard: DashboardService,
    case_number: str,
    exhibit_reference: str,
) -> PackageDemoOutcome:
    """Carry the synthetic operation through and write the dashboard into `folder`."""
    ingested = intake.ingest(
        [_referral(i, *spec[:3], spec[4]) for i, spec in enumerate(_SUBJECTS)], actor="demo"
    )
    subject_of = {r.external_id: r.subject_id for r in ingested.added}
    by_mailbox = {spec[0]: subject_of[f"DEMO-CT-{i:03d}"] for i, spec in enumerate(_SUBJECTS)}
    # What analysts recorded (no referral carries these): they raise some bands.
    facts: dict[str, dict[str, object]] = {
        "north.kent": {"occupation": "teacher", "role_with_access_to_children": True},
        "thames.side": {"registered_sex_offender": True, "children_in_household": 2},
        "city.road": {"other_access_to_children": True},
    }
    for mailbox, recorded in facts.items():
        subjects.record_facts(int(by_mailbox[mailbox] or 0), ANALYST.name, **recorded)
    built: list[Package] = []
    for index, (mailbox, _postcode, _country, destination, _grade) in enumerate(_SUBJECTS):
        package = packages.build(ANALYST, str(by_mailbox[mailbox]))
        flow.approve(SUPERVISOR, package.package_id)
        package = flow.send(SUPERVISOR, package.package_id)
        if destination.endswith(("desk", "queue")):
            built.append(package)
            continue
        contact = Viewer(
            f"demo:{destination}-contact", frozenset({PackageRole.FORCE_CONTACT}), destination
        )
        flow.acknowledge(contact, package.package_id)
        devices = (SeizedDevice("laptop", case_number, exhibit_reference),) if index == 0 else ()
        outcomes.record(
            contact,
            package.package_id,
            Outcome(
                0,
                0,
                "",
                outcomes.today(),  # acted on the day it was issued
                premises_searched=1 + index % 2,
                arrests=1,
                voluntary_interviews=index % 2,
                charges=1 if index % 3 == 0 else 0,
                devices=(*devices, SeizedDevice("phone")),
                children_safeguarded=index % 3,
                children_at_serious_risk=1 if index % 3 == 2 else 0,
                safeguarding_basis="in the care, custody or control of the suspect"
                if index % 3
                else "",
                registered_sex_offender=index == 3,
            ),
        )
        built.append(flow.action(contact, package.package_id))
    board = dashboard.dashboard(SUPERVISOR)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "dashboard.html"
    page.write_text(render_dashboard_html(board), encoding="utf-8")
    table = folder / "dashboard.csv"
    table.write_text(dashboard_csv(board), encoding="utf-8")
    return PackageDemoOutcome(tuple(built), page, table, board.national)
