from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.bootstrap import build_services
from safeguard.cli.app import _register, app
from safeguard.domain.people import Role
from safeguard.settings import load_settings
from tests.package_support import seed_subject

_register()
runner = CliRunner()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def seeded(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFEGUARD_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("SAFEGUARD_PASSWORD_MEMORY_KIB", "1024")
    services = build_services(load_settings())
    for name, role, force in (
        ("ana", Role.NATIONAL_ANALYST, None),
        ("sue", Role.NATIONAL_SUPERVISOR, None),
        ("kim", Role.FORCE_CONTACT, "E23000032"),
        ("eve", Role.FORCE_CONTACT, "E23000028"),
    ):
        services.users.create(name, PASSWORD, [role], force_code=force, actor="test")
    subject = seed_subject(services)
    services.engine.dispose()
    return subject


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_workflow_from_the_terminal(seeded: str, tmp_path: Path) -> None:
    assert "PKG-000001 draft -> Kent Police" in _ok("packages", "build", seeded, "--as", "ana")
    refused = runner.invoke(app, ["packages", "approve", "PKG-000001", "--as", "ana"])
    assert refused.exit_code == 2
    assert "may not approve" in refused.output
    _ok("packages", "approve", "PKG-000001", "--as", "sue")
    assert "disseminated" in _ok("packages", "send", "PKG-000001", "--as", "sue")
    hidden = runner.invoke(app, ["packages", "show", "PKG-000001", "--as", "eve"])
    assert hidden.exit_code == 2
    assert "no package" in hidden.output
    _ok("packages", "ack", "PKG-000001", "--as", "kim")
    report = [
        "packages",
        "outcome",
        "PKG-000001",
        "--as",
        "kim",
        "--arrests",
        "1",
        "--premises-searched",
        "1",
        "--children-safeguarded",
        "2",
        "--basis",
        "in the home",
        "--device",
        "laptop",
        "--no-rso",
    ]
    today = datetime.now(UTC).date()
    earlier = today - timedelta(days=30)
    for when, says in (
        (str(earlier), f"{earlier} is before PKG-000001 was created on {today}"),
        (str(today + timedelta(days=2)), f"is in the future (today is {today} UTC)"),
        ("4 March", "date of action '4 March' is not a date (YYYY-MM-DD)"),
    ):
        refused = runner.invoke(app, [*report, "--occurred-on", when])
        assert refused.exit_code == 2, refused.output
        assert says in " ".join(refused.output.split())
        assert "Traceback" not in refused.output
    assert "recorded for PKG-000001" in _ok(*report)  # the date of action defaults to today
    listed = [
        json.loads(line) for line in _ok("packages", "list", "--as", "kim", "--json").splitlines()
    ]
    assert [(p["reference"], p["state"]) for p in listed] == [("PKG-000001", "acknowledged")]
    assert _ok("packages", "list", "--as", "eve", "--json").strip() == ""
    document = json.loads(_ok("packages", "show", "PKG-000001", "--as", "kim"))
    assert document["content"]["destination"] == "kent"
    csv_path = tmp_path / "dashboard.csv"
    _ok("packages", "dashboard", "--as", "sue", "--out", str(csv_path))
    national = next(
        line for line in csv_path.read_text().splitlines() if line.startswith("national")
    )
    assert national.split(",")[3:6] == ["1", "1", "1"]  # packages, premises searched, arrests
    returned = _ok("packages", "return", "PKG-000001", "--as", "kim", "--reason", "wrong address")
    assert "returned" in returned
