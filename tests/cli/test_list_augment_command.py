"""`safeguard lists augment NAME --originals DIR`, then `match` finds a cropped copy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

import safeguard.cli.list_augment_command  # registers `lists augment`
import safeguard.cli.match_command  # noqa: F401
from safeguard.cli.app import app
from safeguard.services.demo.pictures import synthetic_photo

runner = CliRunner()


def test_augment_then_match_a_cropped_copy(isolated_env: Path, tmp_path: Path) -> None:
    originals = tmp_path / "originals"
    originals.mkdir()
    # Generated stand-ins for listed pictures; nothing here is, or depicts, abuse material.
    photo = synthetic_photo(21, 640, 480)
    photo.save(originals / "held.jpg", quality=92)
    (originals / "notes.txt").write_text("not a picture\n", encoding="utf-8")
    digest = hashlib.sha256((originals / "held.jpg").read_bytes()).hexdigest()
    listed = tmp_path / "list.csv"
    listed.write_text(f"id,sha256,category_scheme,category\nheld-1,{digest},project-vic,1\n")
    result = runner.invoke(app, ["lists", "import", str(listed), "--name", "keeper"])
    assert result.exit_code == 0, result.output
    cropped = tmp_path / "copy.jpg"
    photo.crop((128, 96, 640, 480)).save(cropped, quality=85)

    result = runner.invoke(app, ["match", str(cropped), "--json"])
    assert result.exit_code == 0, result.output
    assert '"known-bad"' not in result.output

    result = runner.invoke(
        app, ["lists", "augment", "keeper", "--originals", str(originals), "--json"]
    )
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["originals_read"] == 2
    assert outcome["originals_matched"] == 1
    assert outcome["skipped"][0]["name"] == "notes.txt"

    result = runner.invoke(app, ["match", str(cropped), "--json"])
    assert result.exit_code == 0, result.output
    assert "held-1#crop-80-bottom-right" in result.output
    [job] = outcome["retroactive_jobs"]
    assert job["state"] == "done"  # run to its end before the command returned


def test_no_wait_leaves_the_rematching_to_a_worker(isolated_env: Path, tmp_path: Path) -> None:
    from safeguard.bootstrap import build_services
    from safeguard.hashing.contract import HashOptions
    from safeguard.hashing.pipeline import hash_bytes
    from safeguard.settings import load_settings

    originals = tmp_path / "originals"
    originals.mkdir()
    # A generated stand-in for a listed picture; nothing here is, or depicts, abuse material.
    photo = synthetic_photo(22, 640, 480)
    photo.save(originals / "held.jpg", quality=92)
    digest = hashlib.sha256((originals / "held.jpg").read_bytes()).hexdigest()
    listed = tmp_path / "list.csv"
    listed.write_text(f"id,sha256,category_scheme,category\nheld-1,{digest},project-vic,1\n")
    result = runner.invoke(
        app, ["lists", "import", str(listed), "--name", "keeper", "--action", "report"]
    )
    assert result.exit_code == 0, result.output
    services = build_services(load_settings())
    try:
        cropped = originals.parent / "copy.jpg"
        photo.crop((128, 96, 640, 480)).save(cropped, quality=85)
        hashes = hash_bytes(cropped.read_bytes(), "copy.jpg", HashOptions())
        assert hashes.pdq is not None
        past = services.upload_matching.match_hashes({"pdq": hashes.pdq}, hashes.pdq_quality)
        assert not past.matches

        result = runner.invoke(
            app, ["lists", "augment", "keeper", "--originals", str(originals), "--no-wait"]
        )
        assert result.exit_code == 0, result.output
        assert "pending" in result.output
        assert services.service_store.list_reports() == []
        result = runner.invoke(app, ["lists", "retroactive", "run"])
        assert result.exit_code == 0, result.output
        assert "done" in result.output
        [report] = services.service_store.list_reports()
        assert report.upload_id == past.upload_id
    finally:
        services.engine.dispose()


def test_augment_names_a_missing_list(isolated_env: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["lists", "augment", "nope", "--originals", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope" in result.output
