"""coreutils (md5sum, sha1sum, sha256sum) and hashdeep/md5deep, run for real.

Each tool hashes generated stand-in files in every output shape it has; Safeguard imports the
output, matches the same output with ``match --hashes`` (the same readers), and exports lists
that the tools then check (``sha256sum -c --strict``, ``md5sum -c --strict``, ``hashdeep -a -k``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.interop.conftest import (
    cli,
    counts_of,
    exported,
    imported,
    matched,
    run_tool,
    tool,
)

PLAIN_NAMES = ("plain.jpg", "with space.png", "comma,name.txt", "back\\slash.bin")
AWKWARD_NAMES = (*PLAIN_NAMES, "new\nline.dat")


def make_files(folder: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    folder.mkdir()
    contents = {}
    for index, name in enumerate(names):
        data = f"stand-in {index} for listed content\n".encode() * (index + 1)
        (folder / name).write_bytes(data)
        contents[name] = data
    return contents


# (command, names it can carry, digest algorithms in its output)
WRITERS = {
    "md5sum": (["md5sum"], AWKWARD_NAMES, ("md5",)),
    "sha1sum -z": (["sha1sum", "-z"], AWKWARD_NAMES, ("sha1",)),
    "sha256sum --tag": (["sha256sum", "--tag"], PLAIN_NAMES, ("sha256",)),
    "sha256sum": (["sha256sum"], AWKWARD_NAMES, ("sha256",)),
    "md5deep -z": (["md5deep", "-z"], PLAIN_NAMES, ("md5",)),
    "md5deep -0": (["md5deep", "-0"], AWKWARD_NAMES, ("md5",)),
    "hashdeep -c md5,sha256": (
        ["hashdeep", "-l", "-c", "md5,sha256"],
        PLAIN_NAMES,
        ("md5", "sha256"),
    ),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_output_shape_imports_and_matches_completely(tmp_path: Path, writer: str) -> None:
    command, names, algorithms = WRITERS[writer]
    folder = tmp_path / "files"
    contents = make_files(folder, names)
    result = run_tool([tool(command[0]), *command[1:], *names], folder)
    assert result.returncode == 0, result.stderr
    listing = tmp_path / "listing.txt"
    listing.write_bytes(result.stdout)

    record = imported(listing, "bad", "--kind", "known-bad")
    counts = counts_of(record)
    assert counts["read"] == len(names), counts
    assert counts["stored"] == len(names)
    assert counts["skipped"] == counts["ignored"] == counts["merged"] == 0

    # `match --hashes` reads the same output through the same reader: every line matches.
    queries = matched(listing)
    assert len(queries) == len(names)
    for query in queries:
        assert query["error"] is None, query
        assert query["verdict"] == "known-bad", query
    expected = {
        getattr(hashlib, algorithm)(data).hexdigest()
        for data in contents.values()
        for algorithm in algorithms
    }
    found = {str(q[a]) for q in queries for a in algorithms}
    assert found == expected


def test_checksum_exports_pass_coreutils_strict_checks(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    make_files(folder, AWKWARD_NAMES)
    for program, fmt in (("sha256sum", "sha256sum"), ("md5sum", "md5sum")):
        written = run_tool([tool(program), *AWKWARD_NAMES], folder)
        listing = tmp_path / f"{program}.txt"
        listing.write_bytes(written.stdout)
        imported(listing, program)
        export = tmp_path / f"export.{program}"
        exported(program, export, fmt)
        check = run_tool([program, "-c", "--strict", str(export)], folder)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count(b": OK") == len(AWKWARD_NAMES)


@pytest.mark.parametrize("columns", ["md5", "md5,sha1"])
def test_hashdeep_export_of_a_partial_list_passes_a_real_audit(
    tmp_path: Path, columns: str
) -> None:
    folder = tmp_path / "files"
    make_files(folder, PLAIN_NAMES)
    hashdeep = tool("hashdeep")
    listing = tmp_path / "known.txt"
    listing.write_bytes(run_tool([hashdeep, "-l", "-c", columns, *PLAIN_NAMES], folder).stdout)
    imported(listing, "partial")
    export = tmp_path / "export.hashdeep"
    exported("partial", export, "hashdeep")
    # The columns follow the data: no empty hash field for hashdeep to refuse.
    assert export.read_text().splitlines()[1] == f"%%%% size,{columns},filename"
    audit = run_tool([hashdeep, "-l", "-a", "-vv", "-k", str(export), *PLAIN_NAMES], folder)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert b"Audit passed" in audit.stdout + audit.stderr
    assert f"Files matched: {len(PLAIN_NAMES)}".encode() in audit.stdout

    # Chosen columns: only entries holding every chosen digest are written, and said so.
    chosen = tmp_path / "chosen.hashdeep"
    note = exported("partial", chosen, "hashdeep", "--algorithms", "md5,sha256")
    assert "Left out 4 of 4 entries" in note
    assert ",," not in chosen.read_text()


def test_csv_export_with_a_bare_carriage_return_reads_back(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    make_files(folder, ("odd\rname.jpg", "plain.jpg"))
    listing = tmp_path / "sums.txt"
    listing.write_bytes(run_tool([tool("md5sum"), "odd\rname.jpg", "plain.jpg"], folder).stdout)
    imported(listing, "cr")
    export = tmp_path / "export.csv"
    exported("cr", export, "csv")
    again = imported(export, "cr-again")
    assert counts_of(again)["stored"] == 2
    assert counts_of(again)["skipped"] == 0
    code, out, err = cli("lists", "export", "cr-again", "-o", str(tmp_path / "x.csv"))
    assert code == 0, out + err
    assert (tmp_path / "x.csv").read_bytes() == export.read_bytes()
