"""The case report as a court sees it: printed to PDF and shown at 1,400 px in Chromium.

A 304-file exhibit with known-bad files carrying long paths, several matches, PDQ and exact
evidence: every known-bad file's list, entry, distance and threshold must be on the printed
pages, every page must name the case and exhibit and its number, and nothing may run off the
page or the 1,400 px window.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

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
from safeguard.domain.hash_lists import ListKind, Provenance, category_for
from safeguard.domain.matches import Match
from safeguard.reporting.contract import CaseReport, ExhibitReport, renderer_named
from safeguard.reporting.pdf_rendering import html_to_pdf
from tests.integration.browser_tools import chromium, chromium_args, pdf_pages, pdf_to_png

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
BST = timezone(timedelta(hours=1))


def _known_bad(index: int) -> FileResult:
    deep = "/".join(f"folder-with-a-long-name-{level}" for level in range(4))
    pdq = Match(
        "national-stand-in-list",
        ListKind.KNOWN_BAD,
        f"PV-{index:07d}",
        HashAlgorithm.PDQ,
        distance=10 + index,
        threshold=31,
        list_version="2026.11",
        query_quality=88,
        variant="rot90" if index % 2 else "original",
        category=category_for("uk-sentencing", "B"),
        provenance=Provenance(series=f"series-{index}", source_record_id=f"rec-{index}"),
        frame_seconds=3.0 if index == 3 else None,
    )
    exact = Match(
        "partner-md5-list",
        ListKind.KNOWN_BAD,
        f"MD5-entry-{index}",
        HashAlgorithm.MD5,
        list_version="7",
        category=category_for("uk-sentencing", "B"),
    )
    return FileResult(
        f"disk.img/partition 1/{deep}/DCIM/archive-{index}.zip/nested/IMG_{index:04d}.jpg",
        FileStatus.KNOWN_BAD,
        1_234_567 + index,
        f"{index:032x}",
        f"{index:040x}",
        f"{index:064x}",
        f"{index + 1:064x}",
        88,
        "video/mp4" if index == 3 else "image/jpeg",
        modified=T0,
        accessed=T0.astimezone(BST),
        created=T0 - timedelta(days=3),
        changed=T0 - timedelta(days=2),
        deleted=index == 5,
        category=category_for("uk-sentencing", "B"),
        matches=(pdq, exact) if index % 3 == 0 else (pdq,),
        frame_seconds=3.0 if index == 3 else None,
        video_frames=12 if index == 3 else None,
    )


def _other(index: int) -> FileResult:
    return FileResult(
        f"disk.img/partition 1/Users/someone/Documents/file-{index:03d}.txt",
        FileStatus.UNKNOWN_IMAGE if index % 4 == 0 else FileStatus.OTHER,
        2_048 + index,
        f"{index:032x}",
        f"{index:040x}",
        f"{index:064x}",
        media_type="image/png" if index % 4 == 0 else "text/plain",
        modified=T0,
    )


KNOWN_BAD = [_known_bad(i) for i in range(8)]


def _report() -> CaseReport:
    case = Case(1, "OP-2026/304", "Examiner A", "304-file exhibit (benign stand-ins)", T0)
    exhibit = Exhibit(
        1, 1, "JB/1", "/evidence/laptop.E01", ExhibitKind.IMAGE_FILE, T0, "sha256:" + "a" * 64
    )
    lists = (
        ListVersion("national-stand-in-list", ListKind.KNOWN_BAD, "2026.11"),
        ListVersion("partner-md5-list", ListKind.KNOWN_BAD, "7"),
    )
    run = ScanRun(1, 1, T0, "0.1.0", "Examiner A", lists, T0, RunState.COMPLETED, 304)
    results = KNOWN_BAD + [_other(i) for i in range(296)]
    counts: dict[FileStatus, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    section = ExhibitReport(
        exhibit, [run], results, counts, {"uk-sentencing B: Category B (Sentencing Council)": 8}
    )
    audit = [AuditEvent(T0, "Examiner A", "scan.started", 1, 1, {"exhibit": "JB/1"}, 1)]
    return CaseReport(case, [section], audit, T0, "Examiner A", "0.1.0")


def _html() -> str:
    stream = io.StringIO()
    renderer_named("html").render(_report(), stream)
    return stream.getvalue()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_printed_report_holds_every_match_evidence_on_pages_that_name_case_and_exhibit(
    tmp_path: Path,
) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(html_to_pdf(_html()))
    pages = pdf_pages(pdf)
    assert len(pages) > 3
    for page in pages:
        flat = _flat(page.text)
        assert "Case OP-2026/304" in flat, page.number
        assert "Exhibit JB/1" in flat, page.number
        assert f"Page {page.number} of {len(pages)}" in flat
        # Nothing cut off: every word lies inside the page.
        outside = [w for w in page.words if w[2] > page.width + 0.5 or w[1] < -0.5]
        assert outside == [], (page.number, outside[:5])
    whole = _flat(" ".join(page.text for page in pages))
    reading = _bare(" ".join(page.reading for page in pages)).replace("-", "")
    for result in KNOWN_BAD:
        assert _bare(result.path).replace("-", "") in reading
        for match in result.matches:
            assert match.list_name in whole
            assert match.entry_id in whole
            if match.is_exact:
                assert f"{match.algorithm.value} exact" in whole
            else:
                assert f"distance {match.distance} of threshold {match.threshold}" in whole
    # Figures people read: thousands separators, times with their zone, the legend.
    assert "1,234,567" in whole
    assert "2026-11-29 10:00:00 UTC" in whole
    assert "2026-11-29 11:00:00 UTC+01:00" in whole
    assert "E entry changed" in whole
    # A person looks at the pages: they render as images.
    images = pdf_to_png(pdf, tmp_path / "page")
    assert len(images) == 2
    for image in images:
        width, height = struct.unpack(">II", image.read_bytes()[16:24])
        assert width > height  # landscape


_MEASURE = """
<script>
addEventListener("load", () => {
  const width = document.documentElement.scrollWidth;
  const rows = [...document.querySelectorAll("tr.match")].map(r => r.getBoundingClientRect());
  const rights = [...document.querySelectorAll("body *")].map(e => e.getBoundingClientRect().right);
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({
    scrollWidth: width,
    innerWidth: innerWidth,
    maxRight: Math.max(...rights),
    matchRows: rows.length,
    tallestMatchRow: Math.max(...rows.map(r => r.height)),
  });
  document.body.appendChild(out);
});
</script>
"""


def test_nothing_runs_off_a_1400_px_window_and_match_rows_stay_one_line(tmp_path: Path) -> None:
    chromium()
    html = _html()
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    # A copy that may run a measuring script (the report itself forbids scripts).
    measured = tmp_path / "measured.html"
    measured.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html).replace(
            "</body>", _MEASURE + "</body>"
        ),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [
            *chromium_args(tmp_path / "p1"),
            "--window-size=1400,900",
            "--dump-dom",
            measured.as_uri(),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom)
    assert found, dom[-500:]
    figures = json.loads(found.group(1).replace("&quot;", '"'))
    assert figures["scrollWidth"] <= 1400, figures
    assert figures["maxRight"] <= 1400, figures
    assert figures["matchRows"] == sum(len(r.matches) for r in KNOWN_BAD)
    assert figures["tallestMatchRow"] < 60, figures  # one line of evidence, not a column of words
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            *chromium_args(tmp_path / "p2"),
            "--window-size=1400,1800",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    width, _height = struct.unpack(">II", shot.read_bytes()[16:24])
    assert width == 1400
