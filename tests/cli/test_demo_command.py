import json
import os
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
    # Intelligence packages: sent to several forces, outcomes recorded, dashboard written.
    assert "Kent Police" in result.output
    assert "Police Scotland" in result.output
    dashboard = (out / "packages" / "dashboard.html").read_text()
    assert 'data-national="arrests">6<' in dashboard
    assert "<svg" in dashboard
    if os.environ.get("CI"):
        # CI installs mtools: the demo must show the FAT image, never silently fall back.
        assert (out / "exhibit" / "demo-disk.img").is_file(), result.output
    if (out / "exhibit" / "demo-exhibit").is_dir():
        assert "mtools or mkfs.vfat is not installed" in " ".join(result.output.split())


def test_demo_says_when_it_falls_back_to_a_folder(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safeguard.services.demo.exhibit as demo_exhibit

    _register()
    monkeypatch.setattr(demo_exhibit.shutil, "which", lambda _name: None)
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "mtools or mkfs.vfat is not installed, so the demo exhibit is a plain folder" in text
    assert (tmp_path / "demo" / "exhibit" / "demo-exhibit").is_dir()


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path, isolated_env: Path) -> None:
    _register()
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "precious.txt").exists()
