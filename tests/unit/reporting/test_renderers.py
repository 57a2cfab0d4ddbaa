from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from safeguard.domain.cases import (
    AuditEvent,
    Case,
    Exhibit,
    ExhibitKind,
    FileResult,
    FileStatus,
    ListVersion,
    RunState,
    ScanRun,
)
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.hash_lists import ListKind, category_for
from safeguard.domain.matches import Match
from safeguard.reporting.contract import (
    CaseReport,
    ExhibitReport,
    ReportRenderer,
    renderer_named,
    renderer_names,
)
from tests.unit.reporting.report_parsing import parse_report

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CAT_C = category_for("uk-sentencing", "C")
PDQ_MATCH = Match(
    "stand-in-bad",
    ListKind.KNOWN_BAD,
    "E-7",
    HashAlgorithm.PDQ,
    distance=14,
    threshold=31,
    list_version="2026.11",
    query_quality=90,
    category=CAT_C,
)


def _report(thumbnails: dict[tuple[int, str], str] | None = None) -> CaseReport:
    case = Case(1, "OP-<1>", "Examiner & Co", "benign demo", T0)
    exhibit = Exhibit(
        1, 1, "JB/1", "/evidence/disk.img", ExhibitKind.IMAGE_FILE, T0, "sha256:" + "a" * 64
    )
    run = ScanRun(
        1,
        1,
        T0,
        "0.1.0",
        "Examiner",
        (ListVersion("stand-in-bad", ListKind.KNOWN_BAD, "2026.11"),),
        T0,
        RunState.COMPLETED,
        4,
    )
    results = [
        FileResult(
            "disk.img/a.jpg",
            FileStatus.KNOWN_BAD,
            10,
            "0" * 32,
            "1" * 40,
            "2" * 64,
            "f" * 64,
            90,
            "image/jpeg",
            category=CAT_C,
            matches=(PDQ_MATCH,),
        ),
        FileResult(
            "disk.img/<script>alert(1)</script>.png",
            FileStatus.UNKNOWN_IMAGE,
            5,
            media_type="image/png",
        ),
        FileResult("disk.img/=cmd.txt", FileStatus.OTHER, 3),
        FileResult("disk.img/bad.zip", FileStatus.ERROR, 0, error="zip bomb: ratio above 200"),
    ]
    section = ExhibitReport(
        exhibit,
        [run],
        results,
        {
            FileStatus.KNOWN_BAD: 1,
            FileStatus.UNKNOWN_IMAGE: 1,
            FileStatus.OTHER: 1,
            FileStatus.ERROR: 1,
            FileStatus.KNOWN_GOOD: 2,
        },
        {"uk-sentencing C: " + CAT_C.label: 1},
        hidden_known_good=2,
    )
    audit = [AuditEvent(T0, "Examiner", "scan.started", 1, 1, {"exhibit": "JB/1"}, 1)]
    return CaseReport(case, [section], audit, T0, "tester", "0.1.0", thumbnails or {})


def _render(name: str, report: CaseReport) -> str:
    stream = io.StringIO()
    renderer = renderer_named(name)
    assert isinstance(renderer, ReportRenderer)
    renderer.render(report, stream)
    return stream.getvalue()


def test_registry_names_and_unknown_format() -> None:
    assert renderer_names() == ["csv", "html", "json"]
    with pytest.raises(ConfigurationError):
        renderer_named("pdf")


def test_html_counts_agree_with_json_export() -> None:
    report = _report()
    html = parse_report(_render("html", report))
    document = json.loads(_render("json", report))
    assert html.status_counts == document["counts"]
    assert html.status_counts["known-good"] == 2
    assert sum(html.status_counts.values()) == 6
    assert html.category_counts == document["category_counts"]
    section = document["exhibits"][0]
    assert html.device_counts["JB/1"] == section["counts"]
    assert len(section["files"]) == 4


def test_html_is_self_contained_escaped_and_imageless_by_default() -> None:
    text = _render("html", _report())
    parsed = parse_report(text)
    assert parsed.images == []
    assert parsed.scripts == 0
    assert "<script>alert" not in text
    assert "&lt;script&gt;" in text
    assert "OP-&lt;1&gt;" in text
    assert "http://" not in text
    assert "https://" not in text
    assert "No image is embedded" in text
    # Perceptual matches show distance, threshold and quality; custody shows list versions.
    assert "distance 14 of threshold 31" in text
    assert "quality 90" in text
    assert "2026.11" in text
    assert "sha256:" + "a" * 64 in text
    assert "zip bomb" in text


def test_html_embeds_only_the_given_thumbnails() -> None:
    report = _report({(1, "disk.img/a.jpg"): "QUJD"})
    parsed = parse_report(_render("html", report))
    assert parsed.images == ["data:image/jpeg;base64,QUJD"]


def test_json_export_keeps_match_details() -> None:
    document = json.loads(_render("json", _report()))
    first = document["exhibits"][0]["files"][0]
    assert first["matches"][0]["distance"] == 14
    assert first["matches"][0]["list_version"] == "2026.11"
    assert first["category"]["code"] == "C"
    assert document["hash_lists"] == [
        {"name": "stand-in-bad", "kind": "known-bad", "version": "2026.11"}
    ]
    assert document["audit"][0]["action"] == "scan.started"


def test_csv_has_one_row_per_listed_file_and_defuses_formulas() -> None:
    rows = list(csv.DictReader(io.StringIO(_render("csv", _report()))))
    assert len(rows) == 4
    assert rows[0]["status"] == "known-bad"
    assert "d=14/31" in rows[0]["matches"]
    assert rows[2]["path"] == "disk.img/=cmd.txt"
    assert rows[0]["case"] == "OP-<1>"
