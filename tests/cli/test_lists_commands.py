from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import safeguard.cli.lists_commands  # noqa: F401  (registers `lists`)
from safeguard.cli.app import _register, app
from tests.contracts.hash_list_store_contract import digest_of
from tests.unit.services.tiny_rds import write_tiny_rds

_register()
runner = CliRunner()


def write_csv(path: Path, seeds: range, *, broken_at: int | None = None) -> Path:
    lines = ["id,md5,sha1,pdq,category_scheme,category"]
    for seed in seeds:
        md5 = "not-a-digest" if seed == broken_at else digest_of("md5", seed)
        lines.append(
            f"vic-{seed},{md5},{digest_of('sha1', seed)},{digest_of('pdq', seed)},project-vic,1"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def shown(*args: str) -> list[dict[str, object]]:
    code, output = invoke("lists", "show", "--json", *args)
    assert code == 0, output
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _isolated(isolated_env: Path) -> Path:
    return isolated_env


def test_import_show_reimport_and_remove(tmp_path: Path) -> None:
    listed = write_csv(tmp_path / "list.csv", range(3))
    code, output = invoke("lists", "import", str(listed), "--name", "bad", "--kind", "known-bad")
    assert code == 0, output
    assert "Imported 3 entries into 'bad'" in output
    (record,) = shown()
    assert record["name"] == "bad"
    assert record["kind"] == "known-bad"
    assert record["entry_count"] == 3
    assert record["enabled"] is True
    assert record["pdq_threshold"] == 31
    assert record["in_place"] is False

    code, output = invoke("lists", "import", str(listed), "--name", "bad", "--version", "2")
    assert code == 0, output
    (record,) = shown("bad")
    assert record["entry_count"] == 3
    assert record["version"] == "2"

    assert invoke("lists", "disable", "bad")[0] == 0
    assert shown("bad")[0]["enabled"] is False
    assert invoke("lists", "enable", "bad")[0] == 0
    assert invoke("lists", "set-threshold", "bad", "20")[0] == 0
    assert shown("bad")[0]["pdq_threshold"] == 20
    assert invoke("lists", "set-threshold", "bad", "300")[0] != 0

    code, output = invoke("lists", "show")
    assert code == 0
    assert "bad" in output

    code, output = invoke("lists", "remove", "bad")
    assert code == 2  # not at a terminal and no --yes: nothing is deleted
    assert "--yes" in output
    assert shown("bad")[0]["entry_count"] == 3
    assert invoke("lists", "remove", "bad", "--yes")[0] == 0
    assert shown() == []
    code, output = invoke("lists", "remove", "bad", "--yes")
    assert code == 2
    assert "no hash list named 'bad'" in output


def test_failed_import_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", range(5))
    assert invoke("lists", "import", str(good), "--name", "bad")[0] == 0
    broken = write_csv(tmp_path / "broken.csv", range(10, 20), broken_at=15)
    code, output = invoke("lists", "import", str(broken), "--name", "bad")
    assert code == 2
    assert "error" in output
    (record,) = shown()
    assert record["entry_count"] == 5
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"value": [{"MediaID": 1, "MD5": "', encoding="utf-8")
    assert invoke("lists", "import", str(truncated), "--name", "other")[0] == 2
    assert [r["name"] for r in shown()] == ["bad"]


def test_lenient_import_skips_bad_records(tmp_path: Path) -> None:
    broken = write_csv(tmp_path / "broken.csv", range(4), broken_at=2)
    code, output = invoke("lists", "import", str(broken), "--name", "x", "--lenient")
    assert code == 0, output
    assert "read 4 records, stored 3 entries, skipped 1 malformed" in output
    assert "broken.csv:4: md5 is not a md5 digest" in output
    assert shown()[0]["entry_count"] == 3


@pytest.mark.parametrize("fmt", ["csv", "vics", "hashdeep"])
def test_export_round_trips(tmp_path: Path, fmt: str) -> None:
    assert (
        invoke("lists", "import", str(write_csv(tmp_path / "l.csv", range(4))), "--name", "bad")[0]
        == 0
    )
    out = tmp_path / f"export.{fmt}"
    code, output = invoke("lists", "export", "bad", "--format", fmt, "-o", str(out))
    assert code == 0, output
    assert "Wrote 4 entries" in output
    assert out.stat().st_size > 0
    assert not list(tmp_path.glob(".export*"))
    code, output = invoke("lists", "import", str(out), "--name", "again", "--kind", "known-bad")
    assert code == 0, output
    assert shown("again")[0]["entry_count"] == 4


def test_export_rejects_unknown_format(tmp_path: Path) -> None:
    assert (
        invoke("lists", "import", str(write_csv(tmp_path / "l.csv", range(1))), "--name", "bad")[0]
        == 0
    )
    code, output = invoke("lists", "export", "bad", "--format", "xml", "-o", str(tmp_path / "x"))
    assert code == 2
    assert "cannot export" in output


def test_nsrl_is_registered_in_place(tmp_path: Path) -> None:
    rds = write_tiny_rds(
        tmp_path / "rds.db",
        [(digest_of("sha256", 1), digest_of("sha1", 1), digest_of("md5", 1), "a")],
    )
    code, output = invoke("lists", "import", str(rds), "--name", "nsrl")
    assert code == 0, output
    assert "queried in place" in output
    (record,) = shown()
    assert record["kind"] == "known-good"
    assert record["in_place"] is True
    assert record["location"] == str(rds.resolve())
    assert record["version"] == "2024.03.1"


def test_db_option_chooses_the_database(tmp_path: Path, isolated_env: Path) -> None:
    listed = write_csv(tmp_path / "list.csv", range(2))
    other = tmp_path / "elsewhere" / "lists.db"
    # A database named with --db is never created by accident, nor its folder.
    code, output = invoke("lists", "import", str(listed), "--name", "bad", "--db", str(other))
    assert code == 2
    assert "safeguard db init" in output
    assert not other.parent.exists()
    other.parent.mkdir()
    assert invoke("db", "init", "--db", str(other))[0] == 0
    code, output = invoke("lists", "import", str(listed), "--name", "bad", "--db", str(other))
    assert code == 0, output
    assert other.is_file()
    assert invoke("lists", "import", str(listed), "--name", "default")[0] == 0
    assert [r["name"] for r in shown()] == ["default"]
    assert [r["name"] for r in shown("--db", f"sqlite:///{other}")] == ["bad"]


def test_export_to_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    listed = write_csv(tmp_path / "l.csv", range(1))
    assert invoke("lists", "import", str(listed), "--name", "bad")[0] == 0
    code, output = invoke("lists", "export", "bad", "-o", str(tmp_path / "no" / "such" / "x.csv"))
    assert code == 2
    assert "cannot write" in output


def test_cli_list_changes_are_audited_and_rematch_past_uploads(tmp_path: Path) -> None:
    from safeguard.bootstrap import build_services
    from safeguard.settings import load_settings

    services = build_services(load_settings())
    seen = services.upload_matching.match_hashes({"md5": digest_of("md5", 3)})
    assert not seen.matches  # unknown when it arrived
    csv = write_csv(tmp_path / "later.csv", range(2, 5))
    code, output = invoke(
        "lists", "import", str(csv), "--name", "later", "--kind", "known-bad", "--action", "report"
    )
    assert code == 0, output
    assert "1 past uploads now match" in output
    assert [r.status.value for r in services.service_store.list_reports(None, 10)] == ["pending"]
    for command in (
        ("disable", "later"),
        ("set-threshold", "later", "12"),
        ("remove", "later", "--yes"),
    ):
        code, output = invoke("lists", *command)
        assert code == 0, output
    audit = list(reversed(services.service_store.list_audit(10)))
    assert [e.action for e in audit] == [
        "list.imported",
        "list.updated",
        "list.updated",
        "list.removed",
    ]
    assert all(e.actor.startswith("cli:") for e in audit)
    assert audit[0].detail["list"] == "later"
    assert audit[2].detail["pdq_threshold"] == "12"


def test_an_unknown_action_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    listed = write_csv(tmp_path / "list.csv", range(2))
    code, output = invoke("lists", "import", str(listed), "--name", "bad", "--action", "blok")
    assert code == 2
    assert "unknown action 'blok'" in output
    assert "Traceback" not in output
    assert invoke("lists", "show")[0] == 2  # the default store was never created


def test_repeated_action_flags_are_all_kept(tmp_path: Path) -> None:
    listed = write_csv(tmp_path / "list.csv", range(2))
    code, output = invoke(
        "lists", "import", str(listed), "--name", "bad", "--action", "report", "--action", "block"
    )
    assert code == 0, output
    assert shown("bad")[0]["action"] == "block,report"
    code, output = invoke("lists", "set-action", "bad", "quarantine", "webhook")
    assert code == 0, output
    assert shown("bad")[0]["action"] == "quarantine,webhook"
    assert invoke("lists", "set-action", "bad", "bogus")[0] == 2
    assert shown("bad")[0]["action"] == "quarantine,webhook"


def test_thresholds_are_refused_beyond_the_cap_and_warned_above_the_benchmark(
    tmp_path: Path,
) -> None:
    listed = write_csv(tmp_path / "list.csv", range(2))
    assert invoke("lists", "import", str(listed), "--name", "bad")[0] == 0
    code, output = invoke("lists", "set-threshold", "bad", "200")
    assert code == 2
    assert "between 0 and 80" in output
    assert shown("bad")[0]["pdq_threshold"] == 31
    code, output = invoke("lists", "set-threshold", "bad", "70")
    assert code == 0
    assert "warning" in output
    assert "above 64" in output
    code, output = invoke("lists", "import", str(listed), "--name", "x", "--threshold", "100")
    assert code == 2
    assert [r["name"] for r in shown()] == ["bad"]


def test_importing_the_same_file_under_a_second_name_warns(tmp_path: Path) -> None:
    listed = write_csv(tmp_path / "list.csv", range(5))
    code, output = invoke("lists", "import", str(listed), "--name", "first")
    assert code == 0
    assert "warning" not in output
    code, output = invoke("lists", "import", str(listed), "--name", "second")
    assert code == 0, output
    text = " ".join(output.split())
    assert "also in 'first' (5 of 5)" in text
    assert "reported once per list" in text
    other = write_csv(tmp_path / "other.csv", range(100, 103))
    code, output = invoke("lists", "import", str(other), "--name", "third")
    assert "warning" not in output
