from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeguard.domain.errors import InputError
from safeguard.domain.intel.identifiers import IdentifierKind
from safeguard.domain.intel.referrals import Referral
from safeguard.intel_intake.contract import ReadItem, ReadOptions, Refusal
from safeguard.intel_intake.phones import to_e164
from safeguard.intel_intake.registry import detect_reader, reader_named
from tests.intel_factories import T0
from tests.unit.intel_intake.samples import BAD_HASH_REPORT, BAD_TIME_REPORT, GOOD_REPORT, batch

OPTIONS = ReadOptions(received_at=T0)


def read(path: Path) -> list[ReadItem]:
    return list(detect_reader(path).read(path, OPTIONS))


def test_well_formed_xml_report_gives_every_field(tmp_path: Path) -> None:
    path = tmp_path / "one.xml"
    path.write_text(batch(GOOD_REPORT))
    assert detect_reader(path).name == "cybertipline-xml"
    [item] = read(path)
    assert isinstance(item, Referral)
    assert item.external_id == "CT-1001"
    assert item.escalation == "Reporter believes a child is at risk"
    assert item.annotations == ("sextortion",)
    assert item.reporter == "Example Chat"
    assert item.person_name == "Sample Person"
    keys = {i.key for i in item.identifiers}
    assert keys == {
        "email:sample.person@example.com",
        "phone:+447700900123",
        "postal_address:1 example street leeds",
        "postcode:LS1 1AA",
        "platform_user_id:example chat:u-7781",
        "screen_name:example chat:sample_p",
        "ip:198.51.100.23",
        "device_id:352099001761481",
    }
    [address] = [i for i in item.identifiers if i.kind is IdentifierKind.IP_ADDRESS]
    assert address.port == 51234
    assert address.observed_at is not None
    assert address.observed_at.isoformat() == "2026-10-02T08:14:00+00:00"
    [file] = item.files
    assert file.hashes == {"md5": "d41d8cd98f00b204e9800998ecf8427e"}
    assert file.industry_classification == "A1"
    assert file.annotations == ("viral",)
    assert item.location is not None
    assert item.location.country_code == "GB"
    assert len(item.content_key) == 64


def test_a_single_report_root_is_read(tmp_path: Path) -> None:
    path = tmp_path / "single.xml"
    path.write_text(GOOD_REPORT)
    [item] = read(path)
    assert isinstance(item, Referral)


def test_malformed_reports_are_refused_with_element_and_the_batch_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xml"
    path.write_text(batch(BAD_TIME_REPORT, GOOD_REPORT, BAD_HASH_REPORT))
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Refusal", "Referral", "Refusal"]
    first, _, third = items
    assert isinstance(first, Refusal)
    assert first.source == str(path)
    assert first.element == "report[1]/incidentSummary/incidentDateTime"
    assert "no timezone" in first.reason
    assert isinstance(third, Refusal)
    assert third.element == "report[3]/fileDetails[1]/originalFileHash[1]"
    assert "md5" in third.reason.lower()


@pytest.mark.parametrize(
    ("change", "element", "reason"),
    [
        (
            "<incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>",
            "report[1]/incidentSummary/incidentType",
            "required element is missing",
        ),
        (
            "<ipAddress>198.51.100.23</ipAddress>",
            "report[1]/personOrUserReported/ipCaptureEvent[1]/ipAddress",
            "required element is missing",
        ),
        ("<industryClassification>A1</industryClassification>", None, None),
    ],
)
def test_missing_elements_name_the_element(
    tmp_path: Path, change: str, element: str | None, reason: str | None
) -> None:
    path = tmp_path / "r.xml"
    path.write_text(batch(GOOD_REPORT.replace(change, "")))
    [item] = read(path)
    if element is None:
        assert isinstance(item, Referral)
        return
    assert isinstance(item, Refusal)
    assert (item.element, item.reason) == (element, reason)


def test_bad_values_name_the_element(tmp_path: Path) -> None:
    cases = {
        "<ipAddress>198.51.100.23</ipAddress>": ("<ipAddress>999.1.1.1</ipAddress>", "ipAddress"),
        "<phone>07700 900123</phone>": ("<phone>12</phone>", "phone[1]"),
        "<industryClassification>A1</industryClassification>": (
            "<industryClassification>Z9</industryClassification>",
            "industryClassification",
        ),
        "<port>51234</port>": ("<port>eighty</port>", "port"),
    }
    for original, (broken, tail) in cases.items():
        path = tmp_path / "r.xml"
        path.write_text(batch(GOOD_REPORT.replace(original, broken)))
        [item] = read(path)
        assert isinstance(item, Refusal), broken
        assert item.element.endswith(tail), item


def test_not_well_formed_xml_keeps_reports_before_the_fault(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_text(batch(GOOD_REPORT, GOOD_REPORT.replace("CT-1001", "CT-1009"))[:-400])
    items = read(path)
    assert isinstance(items[0], Referral)
    assert isinstance(items[-1], Refusal)
    assert items[-1].element.startswith("line ")
    assert "not well-formed XML" in items[-1].reason


def test_doctype_and_entities_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<report>&b;</report>"
    )
    [item] = list(reader_named("cybertipline-xml").read(path, OPTIONS))
    assert isinstance(item, Refusal)
    assert "DOCTYPE" in item.reason


def test_a_doctype_cannot_hide_behind_padding_or_comments(tmp_path: Path) -> None:
    path = tmp_path / "hidden.xml"
    path.write_text(
        '<?xml version="1.0"?>'
        + " " * 70_000
        + "<!-- <report> -->"
        + '<!DOCTYPE r [<!ENTITY a "x">]>'
        + batch(GOOD_REPORT).split("?>", 1)[1]
    )
    [item] = list(reader_named("cybertipline-xml").read(path, OPTIONS))
    assert isinstance(item, Refusal)
    assert "DOCTYPE" in item.reason


def test_json_reports_read_like_xml(tmp_path: Path) -> None:
    report = {
        "reportId": "CT-2001",
        "incidentSummary": {
            "incidentType": "Online Enticement of Children for Sexual Act",
            "incidentDateTime": "2026-10-03T10:00:00+01:00",
            "reportAnnotations": ["csamSolicitation"],
        },
        "personOrUserReported": {
            "espIdentifier": "u-9",
            "espService": "Example Games",
            "ipCaptureEvent": [{"ipAddress": "2001:db8::1", "dateTime": "2026-10-03T09:00:00Z"}],
        },
        "fileDetails": [{"originalFileHash": [{"hashType": "SHA1", "value": "a" * 40}]}],
    }
    bad = {"reportId": "CT-2002", "personOrUserReported": {"espIdentifier": "x"}}
    path = tmp_path / "reports.json"
    path.write_text(json.dumps({"reports": [report, bad]}))
    assert detect_reader(path).name == "cybertipline-json"
    good, refused = read(path)
    assert isinstance(good, Referral)
    assert good.annotations == ("csamSolicitation",)
    assert {i.key for i in good.identifiers} == {
        "platform_user_id:example games:u-9",
        "ip:2001:db8::1",
    }
    assert good.files[0].hashes == {"sha1": "a" * 40}
    assert isinstance(refused, Refusal)
    assert refused.element == "reports[2]/incidentSummary"


def test_broken_json_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"reports": [{"incidentSummary": }]}')
    [item] = read(path)
    assert isinstance(item, Refusal)
    assert item.element == "line 1, column 34"


def test_the_same_report_reserialised_has_the_same_content_key(tmp_path: Path) -> None:
    xml = tmp_path / "a.xml"
    xml.write_text(batch(GOOD_REPORT))
    spaced = tmp_path / "b.xml"
    spaced.write_text(batch(GOOD_REPORT.replace("><", ">\n   <")))
    [a], [b] = read(xml), read(spaced)
    assert isinstance(a, Referral)
    assert isinstance(b, Referral)
    assert a.content_key == b.content_key


def test_unknown_format_and_phones() -> None:
    assert to_e164("07700 900123") == "+447700900123"
    assert to_e164("+1 202 555 0199") == "+12025550199"
    with pytest.raises(InputError):
        to_e164("12")


def test_unknown_files_are_refused_by_detection(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(InputError, match="not a referral format"):
        detect_reader(path)
