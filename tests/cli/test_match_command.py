from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import safeguard.cli.lists_commands
import safeguard.cli.match_command  # registers `lists` and `match`
from safeguard.cli.app import app
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_file
from safeguard.services.demo.pictures import synthetic_photo, write_photo
from tests.contracts.hash_list_store_contract import digest_of

runner = CliRunner()
MATCH_FIELDS = {
    "list",
    "entry_id",
    "algorithm",
    "distance",
    "query_quality",
    "category",
    "provenance",
}


def records(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def listed(isolated_env: Path, tmp_path: Path) -> FileHashes:
    """A known-bad list holding the MD5 of one stand-in photo and the PDQ of another."""
    exact = hash_file(write_photo(tmp_path / "src" / "exact.jpg", seed=1), HashOptions())
    near = hash_file(write_photo(tmp_path / "src" / "near.jpg", seed=2), HashOptions())
    assert near.pdq is not None
    csv = tmp_path / "list.csv"
    csv.write_text(
        "id,md5,pdq,category_scheme,category,series\n"
        f"vic-1,{exact.digests[HashAlgorithm.MD5]},,project-vic,1,s1\n"
        f"vic-2,,{near.pdq},project-vic,2,s2\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["lists", "import", str(csv), "--name", "bad", "--kind", "known-bad"]
    )
    assert result.exit_code == 0, result.output
    return near


@pytest.mark.slow
def test_match_files_as_json(listed: FileHashes, tmp_path: Path) -> None:
    scan = tmp_path / "scan"
    (scan / "a").mkdir(parents=True)
    (scan / "a" / "exact.jpg").write_bytes((tmp_path / "src" / "exact.jpg").read_bytes())
    synthetic_photo(2).resize((320, 240)).save(scan / "a" / "near-resized.png")
    synthetic_photo(2).rotate(90, expand=True).save(scan / "rotated.png")
    write_photo(scan / "unlisted.jpg", seed=3)
    (scan / "empty.jpg").write_bytes(b"")
    result = runner.invoke(app, ["match", str(scan), "--json", "--workers", "1"])
    assert result.exit_code == 0, result.output
    by_name = {Path(str(r["path"])).name: r for r in records(result.output)}
    assert set(by_name) == {
        "exact.jpg",
        "near-resized.png",
        "rotated.png",
        "unlisted.jpg",
        "empty.jpg",
    }

    (exact,) = by_name["exact.jpg"]["matches"]  # type: ignore[misc]
    assert set(exact) >= MATCH_FIELDS
    assert (exact["list"], exact["entry_id"], exact["algorithm"], exact["distance"]) == (
        "bad",
        "vic-1",
        "md5",
        0,
    )
    assert exact["category"]["code"] == "1"
    assert exact["provenance"]["series"] == "s1"
    assert by_name["exact.jpg"]["verdict"] == "known-bad"

    (near,) = by_name["near-resized.png"]["matches"]  # type: ignore[misc]
    assert near["algorithm"] == "pdq"
    assert near["entry_id"] == "vic-2"
    assert 0 <= near["distance"] <= 31
    assert near["query_quality"] >= 50
    (rotated,) = by_name["rotated.png"]["matches"]  # type: ignore[misc]
    assert rotated["variant"] != "original"

    assert by_name["unlisted.jpg"]["matches"] == []
    assert by_name["unlisted.jpg"]["verdict"] == "unknown"
    assert by_name["empty.jpg"]["error"]
    assert by_name["empty.jpg"]["matches"] == []
    assert "md5" in by_name["unlisted.jpg"]
    assert "pdq" in by_name["unlisted.jpg"]


def test_match_human_output(listed: FileHashes, tmp_path: Path) -> None:
    result = runner.invoke(app, ["match", str(tmp_path / "src" / "exact.jpg"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "known-bad" in result.output
    assert "vic-1" in result.output


def test_match_hashes_from_a_plain_file(listed: FileHashes, tmp_path: Path) -> None:
    assert listed.pdq is not None
    hashes = tmp_path / "report.txt"
    exact_md5 = hash_file(tmp_path / "src" / "exact.jpg", HashOptions()).digests[HashAlgorithm.MD5]
    hashes.write_text(
        f"# hashes from a report\n{exact_md5.upper()}  exact.jpg\n{listed.pdq}\nzzzz\n{digest_of('sha1', 5)}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["match", "--hashes", str(hashes), "--json"])
    assert result.exit_code == 0, result.output
    md5_line, pdq_line, bad_line, sha1_line = records(result.output)
    assert md5_line["md5"] == exact_md5
    assert md5_line["line"] == 2
    assert md5_line["matches"][0]["entry_id"] == "vic-1"  # type: ignore[index]
    # 64 hex digits: tried as both SHA-256 and PDQ
    assert pdq_line["pdq"] == listed.pdq
    assert pdq_line["sha256"] == listed.pdq
    (pdq_match,) = pdq_line["matches"]  # type: ignore[misc]
    assert pdq_match["algorithm"] == "pdq"
    assert pdq_match["distance"] == 0
    assert bad_line["error"]
    assert bad_line["matches"] == []
    assert sha1_line["sha1"] == digest_of("sha1", 5)
    assert sha1_line["matches"] == []

    forced = runner.invoke(app, ["match", "--hashes", str(hashes), "--json", "--algorithm", "pdq"])
    assert forced.exit_code == 0
    lines = records(forced.output)
    assert "sha256" not in lines[1]
    assert lines[1]["matches"]
    # --algorithm names bare values only: a named md5sum line stays an MD5.
    assert lines[0]["md5"] == exact_md5
    assert lines[3]["error"]  # a bare SHA-1 is not a PDQ hash


def test_match_hashes_from_a_csv(listed: FileHashes, tmp_path: Path) -> None:
    hashes = tmp_path / "report.csv"
    hashes.write_text(
        f"MD5,PDQ,Quality,note\n,{listed.pdq},90,x\n,{listed.pdq},20,low quality\n{digest_of('md5', 1)},,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["match", "--hashes", str(hashes), "--json"])
    assert result.exit_code == 0, result.output
    good, low, md5_only = records(result.output)
    assert good["pdq"] == listed.pdq
    assert good["pdq_quality"] == 90
    assert good["line"] == 2
    assert good["matches"][0]["query_quality"] == 90  # type: ignore[index]
    assert low["matches"] == []  # below the quality floor
    assert md5_only["md5"] == digest_of("md5", 1)
    assert "pdq" not in md5_only


def test_match_needs_paths_or_hashes_but_not_both(isolated_env: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["match"]).exit_code == 2
    hashes = tmp_path / "h.txt"
    hashes.write_text(digest_of("md5", 1) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["match", str(hashes), "--hashes", str(hashes)]).exit_code == 2


@pytest.mark.parametrize("fmt", ["vics", "csv", "hashdeep"])
def test_match_results_export_as_a_list(listed: FileHashes, tmp_path: Path, fmt: str) -> None:
    from safeguard.list_formats.registry import detect_reader

    scan = tmp_path / "scan"
    scan.mkdir()
    (scan / "exact.jpg").write_bytes((tmp_path / "src" / "exact.jpg").read_bytes())
    synthetic_photo(99).save(scan / "unrelated.png")
    out = tmp_path / f"results.{fmt}"
    result = runner.invoke(
        app, ["match", str(scan), "--workers", "1", "--export", str(out), "--export-format", fmt]
    )
    assert result.exit_code == 0, result.output
    with detect_reader(out).read(out) as parsed:
        entries = list(parsed.entries)
    # Only the matched file is exported, with the digests it was matched by.
    (entry,) = entries
    expected = hashlib.md5((tmp_path / "src" / "exact.jpg").read_bytes()).hexdigest()
    assert entry.digests[HashAlgorithm.MD5] == expected


def test_equal_photodna_value_matches_in_any_spelling(isolated_env: Path, tmp_path: Path) -> None:
    import base64

    raw = bytes(range(144))  # a stand-in value: PhotoDNA is never computed here
    listed_value = base64.b64encode(raw).decode("ascii")
    csv = tmp_path / "pdna.csv"
    csv.write_text(
        f"id,photodna,category_scheme,category\npdna-1,{listed_value},project-vic,1\n",
        encoding="utf-8",
    )
    imported = runner.invoke(
        app, ["lists", "import", str(csv), "--name", "pdna", "--kind", "known-bad"]
    )
    assert imported.exit_code == 0, imported.output
    hashes = tmp_path / "report.txt"
    other = base64.b64encode(bytes(range(1, 145))).decode("ascii")
    hashes.write_text(f"{listed_value}\n{raw.hex().upper()}\n{other}\n", encoding="utf-8")
    result = runner.invoke(
        app, ["match", "--hashes", str(hashes), "--algorithm", "photodna", "--json"]
    )
    assert result.exit_code == 0, result.output
    as_given, as_hex, unlisted = records(result.output)
    for line in (as_given, as_hex):
        (match,) = line["matches"]  # type: ignore[misc]
        assert match["entry_id"] == "pdna-1"
        assert match["algorithm"] == "photodna"
        assert match["distance"] == 0
        assert line["verdict"] == "known-bad"
    assert unlisted["matches"] == []
    human = runner.invoke(app, ["match", "--hashes", str(hashes), "--algorithm", "photodna"])
    assert "photodna exact" in human.output


def test_comma_separated_hash_line_is_not_cut_to_its_first_field(
    listed: FileHashes, tmp_path: Path
) -> None:
    exact_md5 = hash_file(tmp_path / "src" / "exact.jpg", HashOptions()).digests[HashAlgorithm.MD5]
    hashes = tmp_path / "pairs.txt"
    hashes.write_text(
        f"{digest_of('sha1', 5)},{exact_md5}\n{digest_of('sha1', 6)},not-a-hash\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["match", "--hashes", str(hashes), "--json"])
    assert result.exit_code == 0, result.output
    both, broken = records(result.output)
    assert both["md5"] == exact_md5
    assert both["sha1"] == digest_of("sha1", 5)
    assert both["matches"][0]["entry_id"] == "vic-1"  # type: ignore[index]
    assert "field 2" in str(broken["error"])
    assert broken["matches"] == []


def test_match_hashes_in_batches_keeps_file_order(
    listed: FileHashes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safeguard.cli.match_command, "HASH_BATCH", 3)
    exact_md5 = hash_file(tmp_path / "src" / "exact.jpg", HashOptions()).digests[HashAlgorithm.MD5]
    lines = [digest_of("md5", n) for n in range(7)]
    lines[2], lines[4], lines[5] = exact_md5, "zz", str(listed.pdq)
    hashes = tmp_path / "many.txt"
    hashes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["match", "--hashes", str(hashes), "--json"])
    assert result.exit_code == 0, result.output
    out = records(result.output)
    assert [r["line"] for r in out] == list(range(1, 8))
    assert [bool(r["matches"]) for r in out] == [False, False, True, False, False, True, False]
    assert out[4]["error"]


def test_match_files_in_batches(
    listed: FileHashes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safeguard.cli.match_command, "FILE_BATCH", 1)
    result = runner.invoke(
        app, ["match", str(tmp_path / "src"), "--json", "--workers", "1", "--no-recovery"]
    )
    assert result.exit_code == 0, result.output
    by_name = {Path(str(r["path"])).name: r for r in records(result.output)}
    assert by_name["exact.jpg"]["verdict"] == "known-bad"
    assert by_name["near.jpg"]["verdict"] == "known-bad"
