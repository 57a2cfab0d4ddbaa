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
    # The demo keeps its data inside its own folder, not in the user's data folder.
    assert (out / "data" / "safeguard.db").exists()
    (report_file,) = [p for p in (out / "report").glob("*.json") if ".vics." not in p.name]
    report = json.loads(report_file.read_text())
    (exhibit,) = report["exhibits"]
    # What the README promises: the nested zip member, the renamed picture, the deleted
    # picture and the video (at 0:01.0) are found known-bad, with the known-good file hidden.
    assert exhibit["counts"]["known-bad"] == 5
    assert exhibit["counts"]["known-good"] == 1
    bad = {
        f["path"].split("partition 1/", 1)[1]: f
        for f in exhibit["files"]
        if f["status"] == "known-bad"
    }
    assert "DOWNLOAD/BACKUP.ZIP/photos.zip/img_0101.jpg" in bad
    assert "DOCS/TAXES.PDF" in bad  # a picture renamed to look like a document
    assert any(f["deleted"] for f in bad.values())
    assert bad["VIDEO/CLIP.MP4"]["frame_seconds"] == 1.0
    assert all(f["matches"] and f["category"] for f in bad.values())
    html = next((out / "report").glob("*.html")).read_text()
    assert "<img" not in html  # no image is embedded unless asked for


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path, isolated_env: Path) -> None:
    _register()
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "precious.txt").exists()
