"""The demo's intelligence step: a small synthetic operation taken in, linked and ranked.

Its network and high-risk files carry hashes of the demo's known-bad list, so intake
matching finds them for real; everything else is synthetic (see `intel_operation`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry
from safeguard.services.demo.intel_operation import (
    KnownImage,
    Recovery,
    generate_operation,
    score_recovery,
)
from safeguard.services.intel.intake import IntakeService
from safeguard.services.intel.subjects import RankedSubject, SubjectRecord, SubjectService

DEMO_ANALYST = "Demo Analyst"


@dataclass(frozen=True, slots=True)
class IntelDemoOutcome:
    """What the step made: counts, how well planted networks were found, the ranking.

    Attributes:
        referrals, subjects, networks, planted_networks: counts.
        viral_linked: subjects the viral image linked (should be 0).
        recovery: precision and recall of the planted networks.
        ranked: the top of the ranked list.
        top: the top subject's full record.
    """

    referrals: int
    subjects: int
    networks: int
    planted_networks: int
    viral_linked: int
    recovery: Recovery
    ranked: Sequence[RankedSubject]
    top: SubjectRecord


def known_images(entries: Iterable[HashEntry], list_name: str) -> list[KnownImage]:
    """The list's entries with an MD5, as images the operation's files may carry."""
    return [
        KnownImage(
            entry.entry_id,
            entry.digests[HashAlgorithm.MD5],
            list_name,
            (entry.category.scheme, entry.category.code),
            prematched=False,
        )
        for entry in entries
        if HashAlgorithm.MD5 in entry.digests
    ]


def run_intel_demo(
    intake: IntakeService,
    subjects: SubjectService,
    images: Sequence[KnownImage],
    *,
    referrals: int = 300,
    seed: int = 14,
    top: int = 10,
) -> IntelDemoOutcome:
    """Generate, ingest, record the planted analyst facts, and rank."""
    op = generate_operation(referrals, seed=seed, high_risk=3, known_images=images)
    outcome = intake.ingest(op.referrals, actor=DEMO_ANALYST)
    subject_of_person: dict[int, int] = {}
    person_of_subject: dict[int, int] = {}
    for referral in outcome.added:
        assert referral.subject_id is not None
        person = op.person_of[referral.external_id]
        subject_of_person[person] = referral.subject_id
        person_of_subject[referral.subject_id] = person
    for person, facts in op.facts_to_record.items():
        subjects.record_facts(subject_of_person[person], DEMO_ANALYST, **facts)
    networks = subjects.links.networks()
    viral_linked = sum(1 for link in subjects.store.links() if link.key == op.viral_key)
    ranked = subjects.ranked(limit=top)
    return IntelDemoOutcome(
        referrals=len(outcome.added),
        subjects=len(subjects.store.subjects()),
        networks=len(networks),
        planted_networks=len(op.networks),
        viral_linked=viral_linked,
        recovery=score_recovery(op, [n.members for n in networks], person_of_subject),
        ranked=ranked,
        top=subjects.record(ranked[0].subject.subject_id),
    )
