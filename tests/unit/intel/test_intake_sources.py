"""Forensic exhibits and confirmed platform reports as referral sources (memory store)."""

from __future__ import annotations

from dataclasses import replace

from safeguard.domain.cases import Case, Exhibit, ExhibitKind, FileResult, FileStatus
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import ListKind, category_for
from safeguard.domain.matches import Match
from safeguard.domain.service import QueuedReport, ReportStatus
from safeguard.intel_intake.contract import Refusal
from safeguard.services.demo.intel_demo import run_intel_demo
from safeguard.storage.memory_intel import MemoryIntelStore
from tests.intel_factories import T0, email, listed, referral
from tests.intel_stack import intel_stack

MATCH = Match(
    list_name="demo-known-bad",
    list_kind=ListKind.KNOWN_BAD,
    entry_id="E1",
    algorithm=HashAlgorithm.MD5,
    list_version="v1",
    category=category_for("uk-sentencing", "A"),
)


def test_an_exhibit_attaches_to_a_subject_and_links_by_its_known_files() -> None:
    stack = intel_stack(MemoryIntelStore())
    outcome = stack.intake.ingest(
        [referral(f"pop{i}", [email(f"pop{i}")]) for i in range(30)]
        + [
            referral("A", [email("a")]),
            referral("B", [email("b")], [listed("E1"), listed("E2")]),
        ]
    )
    ids = {r.external_id: r.subject_id for r in outcome.added}
    subject = ids["A"]
    assert subject is not None
    case = Case(1, "OP-7", "Examiner", "", T0)
    exhibit = Exhibit(1, 1, "EXH-3", "/evidence/laptop.E01", ExhibitKind.IMAGE_FILE, T0)
    results = [
        FileResult(
            f"laptop.E01/p1/{name}.jpg",
            FileStatus.KNOWN_BAD,
            md5=f"{n:032x}",
            matches=(replace(MATCH, entry_id=name),),
        )
        for n, name in enumerate(["E1", "E2"], start=1)
    ] + [FileResult("laptop.E01/p1/holiday.jpg", FileStatus.UNKNOWN_IMAGE, md5="f" * 32)]
    attachment, ingested = stack.intake.ingest_exhibit(
        case, exhibit, results, subject_id=subject, actor="examiner"
    )
    assert (attachment.files_examined, attachment.known_bad_files) == (3, 2)
    assert len(ingested.added) == 1
    record = stack.subjects.record(subject)
    assert [e.exhibit_reference for e in record.exhibits] == ["EXH-3"]
    [forensic] = [r for r in record.referrals if r.source.value == "forensic-case"]
    assert forensic.external_id == "OP-7/EXH-3"
    assert forensic.grading.code == "1AP"
    assert set(record.network.members) == {subject, ids["B"]}
    assert record.audit[-1].action == "exhibit.attached"
    again = stack.intake.ingest_exhibit(case, exhibit, results, subject_id=subject, actor="x")[1]
    assert again.added == []


def test_confirmed_reports_only_and_only_with_an_account() -> None:
    stack = intel_stack(MemoryIntelStore())
    base = QueuedReport(
        upload_id=1,
        created_at=T0,
        matches=(MATCH,),
        report_id=5,
        reported_user="u-1",
        incident_at=T0,
        file_hashes={"MD5": "A" * 32},
    )
    pending = base
    anonymous = replace(base, status=ReportStatus.CONFIRMED, reported_user=None, report_id=6)
    confirmed = replace(base, status=ReportStatus.CONFIRMED)
    outcome = stack.intake.ingest_confirmed_reports([pending, anonymous, confirmed], actor="r")
    assert [r.external_id for r in outcome.added] == ["report-5"]
    assert [type(r) for r in outcome.refused] == [Refusal, Refusal]
    assert "only confirmed" in outcome.refused[0].reason
    [file] = outcome.added[0].files
    assert file.hashes == {"md5": "a" * 32}
    assert file.matches[0].category_code == "A"
    assert stack.intake.ingest_confirmed_reports([confirmed], actor="r").added == []


def test_the_demo_step_ranks_planted_high_risk_subjects_first() -> None:
    stack = intel_stack(MemoryIntelStore())
    outcome = run_intel_demo(stack.intake, stack.subjects, [], referrals=200, seed=3)
    assert outcome.viral_linked == 0
    assert outcome.recovery.precision == 1.0
    assert outcome.recovery.recall == 1.0
    assert [r.priority.band.value for r in outcome.ranked[:3]] == ["Very High"] * 3
    factors = {c.factor for c in outcome.top.priority.assessment.contributions}  # type: ignore[union-attr]
    assert "access_to_children" in factors
