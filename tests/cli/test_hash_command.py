from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.app import _register, app
from tests import media_factories as media

_register()

FIELDS = {"path", "size", "md5", "sha1", "sha256", "pdq", "pdq_quality", "media_type", "error"}


@pytest.fixture
def cli(isolated_env: Path) -> CliRunner:
    return CliRunner()


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_json_output_for_every_format(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    for index, mime in enumerate(sorted(media.WRITERS)):
        media.write_image(folder, mime, name=f"{index:02d}", seed=index)
    (folder / "zz-empty").write_bytes(b"")
    media.truncated_jpeg(folder / "zz-truncated.jpg")

    result = cli.invoke(app, ["hash", "--json", "--workers", "2", str(folder)])

    assert result.exit_code == 0, result.output
    records = json_lines(result.stdout)
    assert [Path(str(r["path"])).name for r in records] == sorted(p.name for p in folder.iterdir())
    by_type = {r["media_type"]: r for r in records[: len(media.WRITERS)]}
    assert set(by_type) == set(media.WRITERS)
    for record in records:
        assert set(record) >= FIELDS
        data = Path(str(record["path"])).read_bytes()
        assert record["md5"] == hashlib.md5(data).hexdigest()
        assert record["sha1"] == hashlib.sha1(data).hexdigest()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["size"] == len(data)
    for record in records[: len(media.WRITERS)]:
        assert record["error"] is None
        assert isinstance(record["pdq"], str)
        assert len(record["pdq"]) == 64
        assert isinstance(record["pdq_quality"], int)
    assert str(records[-2]["error"]).startswith("EmptyFileError")
    assert str(records[-1]["error"]).startswith("CorruptMediaError")


def test_reference_mode_dihedral_and_algorithm_choice(cli: CliRunner, tmp_path: Path) -> None:
    path = media.write_jpeg(tmp_path / "a.jpg", width=1100, height=900)
    result = cli.invoke(
        app,
        [
            "hash",
            "--json",
            "-w",
            "1",
            "--pdq-mode",
            "reference",
            "--dihedral",
            "--algorithms",
            "sha1,pdq",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    (record,) = json_lines(result.stdout)
    assert record["md5"] is None
    assert record["sha1"] == hashlib.sha1(path.read_bytes()).hexdigest()
    assert isinstance(record["pdq_variants"], list)
    assert len(record["pdq_variants"]) == 7


def test_max_pixels(cli: CliRunner, tmp_path: Path) -> None:
    path = media.write_png(tmp_path / "a.png", width=100, height=100)
    result = cli.invoke(app, ["hash", "--json", "--max-pixels", "9999", str(path)])
    assert result.exit_code == 0
    (record,) = json_lines(result.stdout)
    assert str(record["error"]).startswith("MediaTooLargeError")


def test_table_output(cli: CliRunner, tmp_path: Path) -> None:
    media.write_png(tmp_path / "a.png")
    (tmp_path / "empty").write_bytes(b"")
    result = cli.invoke(app, ["hash", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 files hashed, 1 with errors." in result.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        ["hash", "/no/such/path"],
        ["hash", "--algorithms", "crc32", "."],
        ["hash", "--pdq-mode", "quick", "."],
    ],
)
def test_usage_errors_exit_2(cli: CliRunner, arguments: list[str]) -> None:
    assert cli.invoke(app, arguments).exit_code == 2
