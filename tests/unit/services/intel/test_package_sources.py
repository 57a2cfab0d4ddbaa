"""The intelligence core as the package builder's dossier source (memory store)."""

from __future__ import annotations

from dataclasses import replace

from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.referrals import EstimatedLocation
from safeguard.services.intel.package_sources import IntelCoreDossiers
from safeguard.storage.memory_intel import MemoryIntelStore
from tests.intel_factories import email, listed, referral
from tests.intel_stack import intel_stack


def test_a_subject_becomes_a_dossier_with_location_grading_evidence_and_risk() -> None:
    stack = intel_stack(MemoryIntelStore())
    postcode = Identifier.of(IdentifierKind.POSTCODE, "ct1 2eh")
    first = referral("R1", [email("kay"), postcode], [listed("E1", "A")])
    graded = replace(
        referral("R2", [email("kay")], [listed("E1", "A")], days=3),
        grading=Grading.parse("1BC", "Originator consent needed."),
        location=EstimatedLocation(city="Canterbury", country_code="GB"),
    )
    stack.intake.ingest([first, graded])
    subject_id = stack.subjects.ranked()[0].subject.subject_id
    dossier = IntelCoreDossiers(stack.subjects).dossier(str(subject_id))
    assert dossier.location.postcode == "CT1 2EH"
    assert dossier.location.country == "GB"
    assert {r.grading for r in dossier.referrals} >= {"1BC"}
    assert [r.conditions for r in dossier.referrals if r.handling_code == "C"] == [
        "Originator consent needed."
    ]
    (evidence,) = dossier.evidence
    assert (evidence.list_name, evidence.list_version, evidence.category) == (
        "demo-known-bad",
        "v1",
        "uk-sentencing A",
    )
    assert evidence.first_seen < evidence.last_seen
    assert dossier.risk.band in {"Low", "Medium", "High", "Very High"}
    assert all(i.kind != "postcode" for i in dossier.identifiers)
