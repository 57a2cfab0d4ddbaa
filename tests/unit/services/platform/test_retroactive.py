from __future__ import annotations

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.retroactive_jobs import RetroactiveState
from safeguard.domain.service import ReportStatus, UploadContext
from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
from tests.unit.services.service_stack import (
    ServiceStack,
    bad_list,
    build_stack,
    entry,
    flip_bits,
)

PDQ = "9" * 16 + "3" * 16 + "a" * 16 + "5" * 16


@pytest.fixture
def stack() -> ServiceStack:
    stack = build_stack()
    stack.admin.create_list(bad_list(actions="report,quarantine"), "t")
    return stack


def test_entries_added_later_find_past_uploads_once(stack: ServiceStack) -> None:
    past = stack.matching.match_hashes(
        {"sha256": "1" * 64, "pdq": PDQ}, context=UploadContext(user_id="u1")
    )
    other = stack.matching.match_hashes({"pdq": flip_bits(PDQ, 40)})
    assert past.matches == ()
    change = stack.admin.add_entries("bad", [entry("e1", sha256="1" * 64)], "t")
    [hit] = change.retroactive
    assert hit.upload_id == past.upload_id
    assert hit.outcome.actions == ["quarantine", "report"]
    [report] = stack.store.list_reports(ReportStatus.PENDING)
    assert report.retroactive
    assert report.reported_user == "u1"
    # a near PDQ entry finds the same upload again through another entry, not `other`
    change = stack.admin.add_entries("bad", [entry("e2", pdq=flip_bits(PDQ, 5))], "t")
    [hit] = change.retroactive
    assert hit.upload_id == past.upload_id
    [match] = hit.matches
    assert match.algorithm is HashAlgorithm.PDQ
    assert match.distance == 5
    assert other.upload_id not in {h.upload_id for h in change.retroactive}
    # re-adding the same entries acts on nothing a second time
    again = stack.admin.add_entries("bad", [entry("e1", sha256="1" * 64)], "t")
    assert again.retroactive == ()


def test_live_hits_are_not_acted_on_again_retroactively(stack: ServiceStack) -> None:
    stack.admin.add_entries("bad", [entry("e1", md5="2" * 32)], "t")
    live = stack.matching.match_hashes({"md5": "2" * 32})
    assert live.outcome.report_id is not None
    change = stack.admin.add_entries("bad", [entry("e1", md5="2" * 32)], "t")
    assert change.retroactive == ()
    assert len(stack.store.list_reports()) == 1


def test_disabled_lists_and_far_hashes_find_nothing(stack: ServiceStack) -> None:
    stack.matching.match_hashes({"pdq": PDQ})
    far = stack.admin.add_entries("bad", [entry("e1", pdq=flip_bits(PDQ, 32))], "t")
    assert far.retroactive == ()
    stack.admin.update_list("bad", "t", enabled=False)
    change = stack.admin.add_entries("bad", [entry("e2", pdq=PDQ)], "t")
    assert change.retroactive == ()


def test_list_changes_are_audited(stack: ServiceStack) -> None:
    stack.admin.add_entries("bad", [entry("e1", md5="3" * 32)], "t")
    stack.admin.remove_entries("bad", ["e1"], "t")
    stack.admin.update_list("bad", "t", pdq_threshold=20, actions="block")
    actions = [e.action for e in stack.store.list_audit()]
    assert actions == ["list.updated", "list.entries_removed", "list.entries_added", "list.created"]
    assert stack.admin.get_list("bad").pdq_threshold == 20
    assert stack.admin.get_list("bad").action == "block"


def test_one_change_acts_on_a_bounded_number_of_past_uploads(stack: ServiceStack) -> None:
    for bit in range(12):
        stack.matching.match_hashes({"pdq": flip_bits(PDQ, bit + 1)})
    jobs = RetroactiveJobs(stack.jobs, stack.store, stack.lists, stack.actions, max_hits=5)
    admin_jobs = stack.admin.retroactive_jobs
    assert admin_jobs is stack.retroactive
    job = jobs.prepare("bad", ["wide"], "t")
    stack.lists.add_entries("bad", [entry("wide", pdq=PDQ)])
    job, hits = jobs.start(job, "bad")
    assert len(hits) == 5
    assert job.state is RetroactiveState.HELD
    assert "mistaken entry or threshold" in (job.note or "")
    assert len(stack.store.list_reports(ReportStatus.PENDING)) == 5
