"""python-threatexchange (PyPI 1.2.17, a dev dependency), its CLI run in-process.

The CLI writes its sample collaboration (Meta's benign sample signals) as a bare PDQ file,
signal lines and CSV; ``threatexchange hash`` hashes a generated stand-in photo. Negative
opinions come in the shapes threatexchange and its API export write them (CSV, JSON lines,
``.te`` state files written by threatexchange's own serializers). Exports go back through
threatexchange's own file-collaboration reader.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import warnings
from pathlib import Path

import pytest

from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.interop.conftest import cli, counts_of, exported, imported, matched

NEGATIVE = "negative or disputed opinion"


def threatexchange(state: Path, *args: str) -> str:
    """Run ``threatexchange ARGS`` in-process with its state in `state`; its stdout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library's own deprecations are not ours
        from threatexchange.cli.main import inner_main

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            inner_main(list(args), state)
    return out.getvalue()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files the real threatexchange CLI writes, by the command that wrote them."""
    folder = tmp_path_factory.mktemp("threatexchange")
    state = folder / "state"
    photo = folder / "stand-in.jpg"
    photo.write_bytes(encode(synthetic_photo(31, 640, 480)))
    outputs = {
        "dataset -P -S -s pdq": ("dataset", "-P", "-S", "-s", "pdq"),
        "dataset -P -S": ("dataset", "-P", "-S"),
        "dataset -P --csv": ("dataset", "-P", "--csv"),
        "hash photo": ("hash", "photo", str(photo)),
    }
    files = {"photo": photo}
    for index, (label, args) in enumerate(outputs.items()):
        path = folder / f"output-{index}.txt"  # names say nothing: content decides
        path.write_text(threatexchange(state, *args), encoding="utf-8")
        files[label] = path
    return files


def test_bare_pdq_values_are_read_as_pdq_and_match_perceptually(
    written: dict[str, Path], tmp_path: Path
) -> None:
    bare = written["dataset -P -S -s pdq"]
    values = bare.read_text().split()
    assert len(values) == 16
    assert all(len(v) == 64 for v in values)
    counts = counts_of(imported(bare, "te-pdq"))
    assert (counts["read"], counts["stored"], counts["skipped"]) == (16, 16, 0)
    export = tmp_path / "out.csv"
    exported("te-pdq", export, "csv")
    rows = export.read_text().splitlines()[1:]
    assert all(row.split(",")[4] and not row.split(",")[3] for row in rows)  # pdq, not sha256
    # A hash one bit away matches as PDQ (it would never match as SHA-256).
    near = f"{int(values[0], 16) ^ 1:064x}"
    (query,) = matched(_write(tmp_path / "q.txt", f"pdq {near}\n"))
    assert query["verdict"] == "known-bad"
    assert query["matches"][0]["algorithm"] == "pdq"  # type: ignore[index]
    assert query["matches"][0]["distance"] == 1  # type: ignore[index]


def test_signal_lines_and_csv_keep_video_hashes_and_count_the_rest(
    written: dict[str, Path],
) -> None:
    lines = written["dataset -P -S"].read_text().splitlines()
    kinds = [line.split(" ", 1)[0] for line in lines]
    hashes = sum(kind in ("pdq", "video_md5", "video_sha256") for kind in kinds)
    counts = counts_of(imported(written["dataset -P -S"], "te-lines"))
    assert counts["read"] == len(lines)
    assert counts["stored"] == hashes
    assert counts["ignored"] == len(lines) - hashes
    reasons = counts["ignored_reasons"]
    assert isinstance(reasons, dict)
    assert reasons["signal type 'raw_text' is not a file hash"] == kinds.count("raw_text")

    csv_counts = counts_of(imported(written["dataset -P --csv"], "te-csv"))
    assert csv_counts["stored"] == hashes  # video_md5 and video_sha256 rows kept
    assert csv_counts["read"] == csv_counts["stored"] + csv_counts["ignored"]
    video = [line.split(" ")[1] for line in lines if line.startswith("video_md5 ")]
    assert video
    queries = matched(_write(written["photo"].parent / "v.txt", f"video_md5 {video[0]}\n"))
    assert queries[0]["verdict"] == "known-bad"


def test_threatexchange_hash_output_matches_the_photo(written: dict[str, Path]) -> None:
    counts = counts_of(imported(written["hash photo"], "hashed"))
    assert counts["stored"] == 1
    code, out, err = cli("match", str(written["photo"]), "--json", "--workers", "1")
    assert code == 0, out + err
    record = json.loads(out.splitlines()[-1])
    assert record["verdict"] == "known-bad"
    assert record["matches"][0]["algorithm"] == "pdq"


def test_negative_opinions_become_no_known_bad_verdicts(tmp_path: Path) -> None:
    from threatexchange.exchanges.fetch_state import AggregateSignalOpinionCategory as Opinion

    values = {name: f"{seed:032x}" for seed, name in enumerate(Opinion.__members__, start=1)}
    dataset_csv = "signal_type,signal_str,collab,category,tags\n" + "".join(
        f"video_md5,{value},Stand-ins,{name},\n" for name, value in values.items()
    )
    counts = counts_of(imported(_write(tmp_path / "d.csv", dataset_csv), "opinions"))
    assert (counts["read"], counts["stored"], counts["ignored"]) == (4, 2, 2)
    assert all(NEGATIVE in reason for reason in counts["ignored_reasons"])  # type: ignore[union-attr]
    # Each left-out record is named: file, line and reason.
    named = counts["ignored_records"]
    assert isinstance(named, list)
    assert [re.search(r"d\.csv:(\d+): ", r).group(1) for r in named] == ["2", "5"]  # type: ignore[union-attr]
    queries = matched(_write(tmp_path / "q.txt", "".join(f"{v}\n" for v in values.values())))
    verdicts = dict(zip(values, (q["verdict"] for q in queries), strict=True))
    assert verdicts == {
        "NEGATIVE_CLASS": "unknown",
        "INVESTIGATION_SEED": "known-bad",
        "POSITIVE_CLASS": "known-bad",
        "DISPUTED": "unknown",
    }

    # `threatexchange api fb_threatexchange query`: CSV and --format jsonl, default columns.
    rows = [
        ("1", f"{1:032x}", "HASH_VIDEO_MD5", "MALICIOUS", ["stand_in"], "7"),
        ("2", f"{2:032x}", "HASH_MD5", "NON_MALICIOUS", [], "7"),
        ("3", f"{3:032x}", "HASH_MD5", "UNKNOWN", ["false_positive"], "7"),
        ("4", f"{4:064x}", "HASH_VIDEO_SHA256", "MALICIOUS", [], "7"),
        ("5", "https://example.com/x", "URI", "MALICIOUS", [], "7"),
    ]
    columns = ["id", "indicator", "type", "status", "tags", "owner_id"]
    query_csv = (
        ",".join(columns)
        + "\n"
        + "".join(f"{i},{v},{t},{s},{' '.join(tags)},{o}\n" for i, v, t, s, tags, o in rows)
    )
    jsonl = "".join(json.dumps(dict(zip(columns, row, strict=True))) + "\n" for row in rows)
    for name, text in (("query.csv", query_csv), ("query.jsonl", jsonl)):
        counts = counts_of(imported(_write(tmp_path / name, text), name.replace(".", "-")))
        assert (counts["read"], counts["stored"], counts["ignored"]) == (5, 2, 3), name
        reasons = counts["ignored_reasons"]
        assert isinstance(reasons, dict)
        assert sum(n for r, n in reasons.items() if NEGATIVE in r) == 2


def test_state_files_written_by_threatexchange_serializers(tmp_path: Path) -> None:
    from threatexchange.cli.dataset.simple_serialization import (
        CliIndicatorSerialization,
        HMASerialization,
    )
    from threatexchange.exchanges.clients.fb_threatexchange.descriptor import (
        SimpleDescriptorRollup,
    )

    def rollup(labels: set[str]) -> SimpleDescriptorRollup:
        return SimpleDescriptorRollup(1001, "2021-05-06T07:08:09+0000", labels)

    pdq = [f"{(0xF0 << 248) | seed:064x}" for seed in range(3)]
    cli_state = tmp_path / "cli"
    cli_state.mkdir()
    (path,) = CliIndicatorSerialization.store(
        cli_state,
        [
            CliIndicatorSerialization("HASH_PDQ", pdq[0], rollup({"true_positive"})),
            CliIndicatorSerialization("HASH_PDQ", pdq[1], rollup({"false_positive"})),
            CliIndicatorSerialization("HASH_PDQ", pdq[2], rollup(set())),
        ],
    )
    counts = counts_of(imported(path, "cli-state"))
    assert (counts["read"], counts["stored"], counts["ignored"]) == (3, 2, 1)

    hma_state = tmp_path / "hma"
    hma_state.mkdir()
    (hma_path,) = HMASerialization.store(
        hma_state,
        [
            HMASerialization(pdq[0], "HASH_PDQ", "555", rollup({"disputed"})),
            HMASerialization(pdq[1], "HASH_PDQ", "556", rollup({"stand_in"})),
        ],
    )
    counts = counts_of(imported(hma_path, "hma-state"))
    assert (counts["read"], counts["stored"], counts["ignored"]) == (2, 1, 1)


def test_export_reads_back_in_threatexchange_file_collaboration(
    written: dict[str, Path], tmp_path: Path
) -> None:
    from threatexchange.exchanges.impl.file_api import (
        FileCollaborationConfig,
        LocalFileSignalExchangeAPI,
    )
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal

    imported(written["dataset -P -S"], "round-trip")
    export = tmp_path / "collab.txt"
    exported("round-trip", export, "te-signals")
    config = FileCollaborationConfig(
        name="safeguard-export", api="local_file", enabled=True, filename=str(export)
    )
    api = LocalFileSignalExchangeAPI(config)
    read_back = set()
    for delta in api.fetch_iter([PdqSignal, VideoMD5Signal, VideoSHA256Signal], None):
        read_back |= set(delta.updates)
    for signal_type, value in read_back:
        kind = {"pdq": PdqSignal, "video_md5": VideoMD5Signal, "video_sha256": VideoSHA256Signal}
        assert kind[signal_type].validate_signal_str(value) == value
    original = {
        tuple(line.split(" ", 1))
        for line in written["dataset -P -S"].read_text().splitlines()
        if line.split(" ", 1)[0] in ("pdq", "video_md5", "video_sha256")
    }
    assert read_back == original


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
