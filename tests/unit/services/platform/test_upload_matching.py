from __future__ import annotations

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import InputError, InvalidDigestError
from safeguard.domain.hash_lists import HashList, ListKind
from safeguard.domain.matches import Verdict
from safeguard.domain.service import ReportStatus, UploadContext
from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.unit.services.service_stack import ServiceStack, bad_list, build_stack, entry


@pytest.fixture
def stack() -> ServiceStack:
    return build_stack()


@pytest.fixture(scope="module")
def photo() -> bytes:
    return encode(synthetic_photo(7, 800, 600))


def test_unknown_upload_is_kept_as_hashes_only(stack: ServiceStack, photo: bytes) -> None:
    stack.admin.create_list(bad_list(), "test")
    result = stack.matching.match_upload(photo, UploadContext(content_id="c1"))
    assert result.verdict is Verdict.UNKNOWN
    assert result.matches == ()
    assert result.outcome.actions == []
    seen = stack.store.get_seen(result.upload_id or 0)
    assert seen.digests[HashAlgorithm.SHA256] == result.hashes.digests[HashAlgorithm.SHA256]
    assert seen.pdq == result.hashes.pdq
    assert seen.context.content_id == "c1"
    assert not hasattr(seen, "content")


def test_perceptual_match_blocks_reports_and_quarantines(stack: ServiceStack, photo: bytes) -> None:
    known = stack.matching.hash_upload(photo)
    stack.admin.create_list(bad_list(), "test")
    stack.admin.add_entries("bad", [entry("e1", pdq=known.pdq or "")], "test")
    recompressed = encode(synthetic_photo(7, 800, 600), quality=50)
    result = stack.matching.match_upload(
        recompressed, UploadContext(user_id="u9", ip_address="198.51.100.7")
    )
    assert result.verdict is Verdict.KNOWN_BAD
    [match] = result.matches
    assert match.algorithm is HashAlgorithm.PDQ
    assert match.distance <= match.threshold
    assert match.query_quality is not None
    assert result.outcome.block
    assert result.outcome.actions == ["block", "quarantine", "report"]
    [report] = stack.store.list_reports(ReportStatus.PENDING)
    assert report.reported_user == "u9"
    assert report.ip_address == "198.51.100.7"
    assert report.industry_classification == "A2"
    assert report.file_hashes["MD5"] == result.hashes.digests[HashAlgorithm.MD5]
    assert report.file_viewed_by_esp is False
    [item] = stack.store.list_quarantine()
    assert item.upload_id == result.upload_id


def test_hashes_match_exactly_and_bad_digests_are_refused(stack: ServiceStack) -> None:
    stack.admin.create_list(bad_list(actions="block"), "test")
    stack.admin.add_entries("bad", [entry("e1", md5="a" * 32)], "test")
    result = stack.matching.match_hashes({"md5": "A" * 32})
    assert result.outcome.block
    assert result.matches[0].is_exact
    with pytest.raises(InvalidDigestError):
        stack.matching.match_hashes({"md5": "abc"})
    with pytest.raises(InputError, match="unsupported"):
        stack.matching.match_hashes({"crc32": "abc"})
    with pytest.raises(InputError, match="at least one"):
        stack.matching.match_hashes({})


def test_known_good_lists_never_act(stack: ServiceStack) -> None:
    good = HashList(name="good", kind=ListKind.KNOWN_GOOD, action="block,report")
    stack.admin.create_list(good, "test")
    stack.admin.add_entries("good", [entry("g1", sha1="b" * 40)], "test")
    result = stack.matching.match_hashes({"sha1": "b" * 40})
    assert result.verdict is Verdict.KNOWN_GOOD
    assert result.outcome.actions == []


def test_bad_images_and_empty_uploads_are_input_errors(stack: ServiceStack) -> None:
    with pytest.raises(InputError, match="empty"):
        stack.matching.match_upload(b"")
    with pytest.raises(InputError):
        stack.matching.match_upload(b"\xff\xd8\xff\xe0" + b"\x00" * 64)


def test_keeper_serves_changes_only_after_catching_up(stack: ServiceStack) -> None:
    stack.admin.create_list(bad_list(actions="block"), "test")
    # A PDQ change another process made: the index serves it once this keeper polls.
    stack.lists.add_entries("bad", [entry("e1", pdq="c" * 64)])
    assert not stack.matching.match_hashes({"pdq": "c" * 64}).outcome.block
    before = stack.keeper.revision
    assert stack.keeper.ensure_fresh() > before
    assert stack.matching.match_hashes({"pdq": "c" * 64}).outcome.block


def test_match_many_keeps_each_items_error(stack: ServiceStack, photo: bytes) -> None:
    results = stack.matching.match_many(
        [lambda: stack.matching.match_upload(photo), lambda: stack.matching.match_upload(b"")]
    )
    assert not isinstance(results[0], InputError)
    assert isinstance(results[1], InputError)


def test_match_hashes_many_answers_each_item_as_one_call_would(stack: ServiceStack) -> None:
    known_pdq = "ab" * 32
    stack.admin.create_list(bad_list(), "test")
    stack.admin.add_entries("bad", [entry("e1", pdq=known_pdq), entry("e2", md5="1" * 32)], "test")
    items = [
        ({"pdq": "cd" * 32}, None, UploadContext(content_id="a")),
        ({"md5": "zz"}, None, None),
        ({"pdq": known_pdq}, 90, UploadContext(content_id="b")),
        ({"md5": "1" * 32, "sha1": "2" * 40}, None, None),
        ({}, None, None),
    ]
    unknown, bad_digest, by_pdq, by_md5, empty = stack.matching.match_hashes_many(items)
    assert isinstance(bad_digest, InvalidDigestError)
    assert isinstance(empty, InputError)
    assert not isinstance(unknown, InputError)
    assert not isinstance(by_pdq, InputError)
    assert not isinstance(by_md5, InputError)
    assert unknown.verdict is Verdict.UNKNOWN
    assert stack.store.get_seen(unknown.upload_id or 0).context.content_id == "a"
    assert by_pdq.verdict is Verdict.KNOWN_BAD
    assert by_pdq.outcome.block
    assert [m.entry_id for m in by_md5.matches] == ["e2"]
    assert len(stack.store.list_reports(ReportStatus.PENDING)) == 2
    # The same hashes again are a new upload, with its own record and report, as one by one.
    again = stack.matching.match_hashes_many([items[2]])[0]
    assert not isinstance(again, InputError)
    assert again.upload_id not in (None, by_pdq.upload_id)
    assert len(stack.store.list_reports(ReportStatus.PENDING)) == 3
