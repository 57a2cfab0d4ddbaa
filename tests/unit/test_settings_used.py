"""Every setting is used by the code and documented; an archive limit really limits a scan."""

from __future__ import annotations

import ast
import dataclasses
import io
import zipfile
from pathlib import Path

import pytest

from safeguard.settings import ENV_PREFIX, Settings

SOURCE = Path(__file__).resolve().parents[2] / "src" / "safeguard"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"

NOT_YET_USED: set[str] = set()
"""Settings read and documented before anything uses them (none now)."""


def _attributes_used(tree: ast.AST) -> set[str]:
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def _settings_members_using(field: str, settings_tree: ast.Module) -> set[str]:
    """Names of Settings' properties and methods whose body reads ``self.<field>``."""
    (cls,) = [n for n in settings_tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings"]
    return {
        member.name
        for member in cls.body
        if isinstance(member, ast.FunctionDef)
        and not member.name.startswith("__")
        and field in _attributes_used(member)
    }


def test_every_setting_is_used_outside_settings_py() -> None:
    settings_file = SOURCE / "settings.py"
    settings_tree = ast.parse(settings_file.read_text())
    used: set[str] = set()
    for module in SOURCE.rglob("*.py"):
        if module != settings_file:
            used |= _attributes_used(ast.parse(module.read_text()))
    unused = [
        field.name
        for field in dataclasses.fields(Settings)
        if field.name not in NOT_YET_USED
        and field.name not in used
        and not (_settings_members_using(field.name, settings_tree) & used)
    ]
    assert unused == [], f"settings read but never used: {unused}"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    missing = [
        ENV_PREFIX + field.name.upper()
        for field in dataclasses.fields(Settings)
        if f"`{ENV_PREFIX}{field.name.upper()}`" not in text
    ]
    assert missing == [], f"settings missing from docs/settings.md: {missing}"


def test_exemptions_are_still_needed() -> None:
    used: set[str] = set()
    for module in SOURCE.rglob("*.py"):
        if module.name != "settings.py":
            used |= _attributes_used(ast.parse(module.read_text()))
    stale = sorted(NOT_YET_USED & used)
    assert stale == [], f"used now: drop {stale} from NOT_YET_USED"


def test_archive_depth_setting_limits_a_scan(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from safeguard.cli.app import _register, app

    _register()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("deep.txt", "benign")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("inner.zip", inner.getvalue())
    exhibit = tmp_path / "exhibit"
    exhibit.mkdir()
    (exhibit / "outer.zip").write_bytes(outer.getvalue())
    monkeypatch.setenv("SAFEGUARD_ARCHIVE_MAX_DEPTH", "1")
    cli = CliRunner()
    assert cli.invoke(app, ["case", "new", "--number", "Z", "--examiner", "E"]).exit_code == 0
    scanned = cli.invoke(app, ["scan", str(exhibit), "--case", "Z"])
    assert scanned.exit_code == 0, scanned.output
    assert "nesting depth limit (1)" in scanned.output
    assert "deep.txt" not in scanned.output
