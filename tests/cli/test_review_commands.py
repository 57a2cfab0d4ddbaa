from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.app import _register, app
from safeguard.cli.context import services_for
from safeguard.domain.review import GradingScheme
from safeguard.services.review.publication import GRADED_LIST
from tests.unit.services.review.review_exhibit import ReviewCase, scanned_review_case

_register()
runner = CliRunner()


@pytest.fixture
def review(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ReviewCase:
    monkeypatch.setenv("SAFEGUARD_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("SAFEGUARD_PASSWORD_MEMORY_KIB", "1024")
    services = services_for()
    made = scanned_review_case(services, tmp_path / "exhibit")
    services.engine.dispose()
    return made


def _json(output: str) -> dict[str, object]:
    return next(json.loads(line) for line in output.splitlines() if line.startswith("{"))


def test_export_import_round_trip_and_four_eyes_publish(review: ReviewCase, tmp_path: Path) -> None:
    services = services_for()
    exhibit = review.exhibit
    items = {Path(i.path).name: i.item_no for i in services.review_store.items(exhibit.exhibit_id)}
    services.review.grade(review.case, exhibit, [items["b_original.jpg"]], "2", review.examiner)
    services.review.grade(review.case, exhibit, [items["c_alone.jpg"]], "4", review.examiner)
    prepared = runner.invoke(
        app, ["review", "prepare", "--case", "OP-R", "--exhibit", "exhibit", "--examiner", "exa"]
    )
    assert prepared.exit_code == 0, prepared.output
    assert _json(prepared.stdout)["items"] == 8
    out = tmp_path / "grades.json"
    exported = runner.invoke(
        app, ["review", "export", "--case", "OP-R", "--examiner", "exa", "-o", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    assert _json(exported.stdout)["items"] == 2
    assert json.loads(out.read_text())["value"]  # a VICS document
    # The same file graded into a fresh case holding the same exhibit.
    other = scanned_review_case(services, tmp_path / "again", number="OP-AGAIN")
    imported = runner.invoke(
        app, ["review", "import", "--case", "OP-AGAIN", "--examiner", "exb", str(out)]
    )
    assert imported.exit_code == 0, imported.output
    assert _json(imported.stdout)["graded"] == 2
    grades = services.review_store.current_grades(other.exhibit.exhibit_id)
    again = {
        Path(i.path).name: i.item_no for i in services.review_store.items(other.exhibit.exhibit_id)
    }
    assert grades[again["b_original.jpg"]].code == "B"
    assert grades[again["b_original.jpg"]].examiner == "exb"
    assert grades[again["b_original.jpg"]].source == "vics-import"
    assert grades[again["c_alone.jpg"]].code == "NI"
    # Publication, four eyes.
    asked = runner.invoke(app, ["lists", "publish", "--case", "OP-R", "--examiner", "exa"])
    assert asked.exit_code == 0, asked.output
    number = int(str(_json(asked.stdout)["publication"]))
    same = runner.invoke(
        app, ["lists", "publish", "--case", "OP-R", "--examiner", "exa", "--confirm", str(number)]
    )
    assert same.exit_code == 2
    assert "second examiner" in same.stderr
    done = runner.invoke(
        app, ["lists", "publish", "--case", "OP-R", "--examiner", "exb", "--confirm", str(number)]
    )
    assert done.exit_code == 0, done.output
    assert f"{GRADED_LIST}=1" in str(_json(done.stdout)["lists"])
    # Someone not on the case's access list cannot do any of it.
    services.users.create("outsider", "correct horse battery staple", ["examiner"], actor="t")  # type: ignore[list-item]
    refused = runner.invoke(app, ["lists", "publish", "--case", "OP-R", "--examiner", "outsider"])
    assert refused.exit_code == 2
    assert "not an examiner on case" in refused.stderr
    services.engine.dispose()


def test_import_refuses_categories_outside_the_cases_scheme(
    review: ReviewCase, tmp_path: Path
) -> None:
    services = services_for()
    items = {
        Path(i.path).name: i.item_no for i in services.review_store.items(review.exhibit.exhibit_id)
    }
    services.review.set_scheme(review.case, GradingScheme.PROJECT_VIC, "t")
    services.review.grade(review.case, review.exhibit, [items["a_small.jpg"]], "1", review.examiner)
    out = tmp_path / "vic.json"
    runner.invoke(app, ["review", "export", "--case", "OP-R", "--examiner", "exa", "-o", str(out)])
    services.review.set_scheme(review.case, GradingScheme.UK, "t")
    refused = runner.invoke(
        app, ["review", "import", "--case", "OP-R", "--examiner", "exb", str(out)]
    )
    assert refused.exit_code == 2
    services.engine.dispose()
