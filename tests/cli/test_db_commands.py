"""Issue 12 item 5: the store is never created, initialised or migrated by accident, and
every way of pointing at a wrong one is one line, not a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from typer.testing import CliRunner

from safeguard.cli.app import _register, app
from safeguard.storage.sql.engine import MIGRATIONS_DIR, make_engine
from tests.conftest import private_postgres_database

_register()
runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(isolated_env: Path) -> Path:
    return isolated_env


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def _one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ")
    assert "Traceback" not in output
    return lines[0]


def test_a_path_or_a_bad_url_never_creates_a_database_or_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("case", "new", "--number", "1", "--examiner", "e", "--db", "not a url")
    assert code == 2
    assert "safeguard db init" in _one_line_error(output)
    missing = tmp_path / "no" / "such" / "x.db"
    code, output = run("case", "new", "--number", "1", "--examiner", "e", "--db", str(missing))
    assert code == 2
    _one_line_error(output)
    code, output = run("db", "init", "--db", str(missing))
    assert code == 2
    assert "does not exist" in _one_line_error(output)
    code, output = run("lists", "show", "--db", "mysql://someone@127.0.0.1/lists")
    assert code == 2
    assert "unsupported database 'mysql'" in _one_line_error(output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"] or not any(tmp_path.iterdir())
    assert not (tmp_path / "data").exists()


def test_safeguard_db_takes_a_path_like_the_db_option(tmp_path: Path) -> None:
    path = tmp_path / "lists.db"
    env = {"SAFEGUARD_DB": str(path)}
    code, output = run("db", "info", "--json", env=env)
    assert code == 0, output
    info = json.loads(output)
    assert info["state"] == "missing"
    assert info["sqlite_file"] == str(path)
    assert info["data_folder"].endswith("data")
    assert not path.exists()
    assert run("db", "init", env=env)[0] == 0
    assert run("case", "new", "--number", "OP-1", "--examiner", "e", env=env)[0] == 0
    code, output = run("case", "show", "OP-1", "--db", str(path))
    assert code == 0, output
    assert "case OP-1" in output
    assert json.loads(run("db", "info", "--json", "--db", str(path))[1])["state"] == "current"


def test_read_only_commands_never_create_or_migrate(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    for args in (("lists", "show"), ("case", "show", "x"), ("keys", "list")):
        code, output = run(*args, "--db", str(empty))
        assert code == 2, args
        assert "holds no Safeguard data" in _one_line_error(output)
    assert empty.stat().st_size == 0
    # An older schema: read-only commands say so and leave it; `db upgrade` upgrades it.
    older = tmp_path / "older.db"
    assert run("db", "init", "--db", str(older))[0] == 0
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = make_engine(f"sqlite:///{older}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "cases_0001")
    engine.dispose()

    def revisions() -> set[str]:
        with sqlite3.connect(older) as db:
            return {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}

    before = revisions()
    assert "cases_0002" not in before
    code, output = run("lists", "show", "--db", str(older))
    assert code == 2
    assert "safeguard db upgrade" in _one_line_error(output)
    assert revisions() == before
    code, output = run("db", "upgrade", "--db", str(older))
    assert code == 0, output
    assert "cases_0002" in revisions()
    assert run("lists", "show", "--db", str(older))[0] == 0


def test_postgresql_mistakes_are_one_line() -> None:
    with private_postgres_database("sg_dbcmd") as url:
        code, output = run("lists", "show", "--db", url)
        assert code == 2
        assert "safeguard db init" in _one_line_error(output)
        assert run("db", "init", "--db", url)[0] == 0
        assert run("lists", "show", "--db", url)[0] == 0
        wrong_role = url.replace("postgres@", "no_such_role_sg@", 1)
        code, output = run("lists", "show", "--db", wrong_role)
        assert code == 2
        assert "no_such_role_sg" in _one_line_error(output)
        wrong_port = url.replace(":5432/", ":1/", 1)
        code, output = run("case", "new", "--number", "1", "--examiner", "e", "--db", wrong_port)
        assert code == 2
        assert "cannot open the database" in _one_line_error(output)
    assert os.environ.get("SAFEGUARD_DB") is None
