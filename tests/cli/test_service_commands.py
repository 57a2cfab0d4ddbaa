from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.app import _register, app

_register()
runner = CliRunner()


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_keys_create_list_revoke(isolated_env: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "keys.db")
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0
    created = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--name",
            "moderation",
            "--scopes",
            "match,reports:review",
            "--rate",
            "60",
            "--db",
            db,
        ],
    )
    assert created.exit_code == 0, created.output
    [record] = _lines(created.stdout)
    token = str(record["token"])
    assert token.startswith(f"sg_{record['key_id']}_")
    assert record["scopes"] == ["match", "reports:review"]
    assert record["rate_per_minute"] == 60
    listed = runner.invoke(app, ["keys", "list", "--db", db])
    [shown] = _lines(listed.stdout)
    assert "token" not in shown
    assert token not in listed.stdout
    revoked = runner.invoke(app, ["keys", "revoke", str(record["key_id"]), "--db", db])
    assert revoked.exit_code == 0
    assert _lines(revoked.stdout)[0]["revoked_at"] is not None


@pytest.mark.parametrize("scopes", ["root", ""])
def test_keys_create_refuses_bad_scopes(isolated_env: Path, tmp_path: Path, scopes: str) -> None:
    result = runner.invoke(
        app, ["keys", "create", "--name", "x", "--scopes", scopes, "--db", str(tmp_path / "k.db")]
    )
    assert result.exit_code == 2


def test_revoking_an_unknown_key_fails(isolated_env: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "revoke", "nope", "--db", str(tmp_path / "k.db")])
    assert result.exit_code == 2


def test_serve_help_names_its_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--db"):
        assert option in result.stdout
