from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.app import _register, app

_register()
runner = CliRunner()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def cheap_argon2(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAFEGUARD_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("SAFEGUARD_PASSWORD_MEMORY_KIB", "1024")
    return isolated_env


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_users_create_list_disable_with_password_from_stdin(cheap_argon2: Path) -> None:
    created = runner.invoke(
        app,
        [
            "users",
            "create",
            "Kent.Contact",
            "--role",
            "force-contact",
            "--force",
            "E23000032",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    [record] = _lines(created.stdout)
    assert record["username"] == "kent.contact"
    assert record["roles"] == ["force-contact"]
    assert record["force_code"] == "E23000032"
    assert PASSWORD not in created.output
    exa = runner.invoke(
        app,
        ["users", "create", "exa", "--role", "examiner,auditor", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert exa.exit_code == 0, exa.output
    listed = _lines(runner.invoke(app, ["users", "list"]).stdout)
    assert [u["username"] for u in listed] == ["exa", "kent.contact"]
    assert all("hash" not in key for u in listed for key in u)
    disabled = runner.invoke(app, ["users", "disable", "exa"])
    assert _lines(disabled.stdout)[0]["disabled"] is True


def test_users_create_refuses_bad_input_with_a_message(cheap_argon2: Path) -> None:
    short = runner.invoke(
        app, ["users", "create", "exa", "--role", "examiner", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2
    assert "at least 12" in short.stderr
    no_force = runner.invoke(
        app,
        ["users", "create", "kent", "--role", "force-officer", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert no_force.exit_code == 2
    assert "force code" in no_force.stderr
    bad_role = runner.invoke(app, ["users", "create", "x1", "--role", "wizard", "--password-stdin"])
    assert "unknown role" in bad_role.stderr


def test_users_grant_puts_a_user_on_a_case_access_list(cheap_argon2: Path, tmp_path: Path) -> None:
    from safeguard.cli.context import services_for

    runner.invoke(
        app,
        ["users", "create", "exa", "--role", "examiner", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    services = services_for()
    case = services.case_service.new_case("OP-7", "exa")
    granted = runner.invoke(app, ["users", "grant", "exa", "--case", "OP-7"])
    assert granted.exit_code == 0, granted.output
    user = services.users.find("exa")
    assert services.case_access.allows(user, case.case_id)
    runner.invoke(app, ["users", "revoke", "exa", "--case", "OP-7"])
    assert not services.case_access.allows(user, case.case_id)
