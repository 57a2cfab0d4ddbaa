from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import safeguard.cli.intel_commands  # noqa: F401  (registers `intel`)
from safeguard.cli.app import app
from tests.unit.intel_intake.samples import BAD_HASH_REPORT, GOOD_REPORT, batch

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture(autouse=True)
def _isolated(isolated_env: Path) -> Path:
    return isolated_env


def test_ingest_refuses_bad_reports_and_takes_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "reports.xml"
    other = (
        GOOD_REPORT.replace("CT-1001", "CT-1500")
        .replace("Sample.Person", "second")
        .replace("u-7781", "u-8")
        .replace("@Sample_P", "second_p")
    )
    path.write_text(batch(GOOD_REPORT, BAD_HASH_REPORT, other))
    code, output = invoke(
        "intel",
        "ingest",
        str(path),
        "--grading",
        "2BC",
        "--conditions",
        "UK law enforcement only",
        "--by",
        "analyst",
    )
    assert code == 1
    assert "2 referral(s) added, 0 already held, 1 refused" in output
    assert f"{path}: report[2]/fileDetails[1]/originalFileHash[1]" in output
    code, output = invoke(
        "intel",
        "ingest",
        str(path),
        "--grading",
        "2BC",
        "--conditions",
        "UK law enforcement only",
        "--json",
    )
    [record] = lines(output)
    assert (record["added"], record["unchanged"]) == (0, 2)

    code, output = invoke("intel", "subjects", "--json")
    assert code == 0
    rows = lines(output)
    assert [r["label"] for r in rows] == ["sample.person@example.com", "second@example.com"]
    first, second = (int(str(r["id"])) for r in rows)
    assert rows[0]["network_id"] == rows[1]["network_id"]  # shared phone, device and IP

    code, output = invoke("intel", "show", str(first), "--json")
    shown = lines(output)[0]
    assert shown["referrals"][0]["grading"]["conditions"] == "UK law enforcement only"
    code, output = invoke("intel", "show", str(first))
    assert code == 0
    assert "Factors" in output
    assert "KIRAT" in output

    code, output = invoke("intel", "facts", str(first), "--access-role", "--occupation", "teacher")
    assert code == 0
    assert "band now Very High" in output
    code, output = invoke(
        "intel", "override", str(first), "high", "--reason", "checked", "--by", "an"
    )
    assert "band High by an (computed Very High)" in output
    code, output = invoke("intel", "subjects", "--overridden", "--json")
    assert [r["id"] for r in lines(output)] == [first]

    code, output = invoke("intel", "merge", str(first), str(second), "--reason", "same person")
    assert code == 0, output
    assert "merge 1:" in output
    code, output = invoke("intel", "subjects", "--json")
    assert len(lines(output)) == 1
    code, output = invoke("intel", "split", "1", "--reason", "not the same")
    assert code == 0, output
    code, output = invoke("intel", "split", "1", "--reason", "again")
    assert code == 2
    assert "already split" in output

    code, output = invoke("intel", "networks", "--json")
    [listed] = lines(output)
    assert sorted(listed["members"]) == sorted([first, second])
    code, output = invoke("intel", "network", str(first), "--json")
    network = lines(output)[0]
    assert sorted(network["members"]) == sorted([first, second])
    code, output = invoke("intel", "unlink", str(first), str(second), "--reason", "different")
    assert code == 0
    code, output = invoke("intel", "network", str(first), "--json")
    assert lines(output)[0]["members"] == [first]
    code, output = invoke("intel", "link", str(first), str(second), "--reason", "custody record")
    assert code == 0
    code, output = invoke("intel", "network", str(first))
    assert "analyst" in output


def test_new_subject_by_hand() -> None:
    code, output = invoke("intel", "new-subject", "--label", "Suspect K", "--reason", "named")
    assert code == 0
    assert "subject 1 opened: Suspect K" in output


def test_ingest_needs_something_to_read() -> None:
    code, output = invoke("intel", "ingest")
    assert code == 2
    code, output = invoke("intel", "ingest", "/nonexistent/file.xml")
    assert code == 1
    assert "empty or unreadable" in output
