import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.app import _register, app

pytestmark = pytest.mark.slow


def test_demo_runs_the_whole_flow(tmp_path: Path, isolated_env: Path) -> None:
    _register()
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "known-bad" in result.output
    # It ends with a ranked subject list from a synthetic operation, the top one explained.
    assert "Subjects by priority" in result.output
    assert "the viral image linked 0 subjects" in result.output
    assert "Why subject" in result.output
    assert "KIRAT" in result.output
    # The demo keeps its data inside its own folder, not in the user's data folder.
    assert (out / "data" / "safeguard.db").exists()
    report = json.loads(next((out / "report").glob("*.json")).read_text())
    assert report
    html = next((out / "report").glob("*.html")).read_text()
    assert "<img" not in html  # no image is embedded unless asked for
    # Intelligence packages: sent to several forces, outcomes recorded, dashboard written.
    assert "Kent Police" in result.output
    assert "Police Scotland" in result.output
    dashboard = (out / "packages" / "dashboard.html").read_text()
    assert 'data-national="arrests">6<' in dashboard
    assert "<svg" in dashboard


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path, isolated_env: Path) -> None:
    _register()
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "precious.txt").exists()
