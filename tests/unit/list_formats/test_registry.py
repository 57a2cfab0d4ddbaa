from __future__ import annotations

import io
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import UNCATEGORISED, HashEntry, category_for
from safeguard.list_formats import (
    READERS,
    WRITERS,
    ListMetadata,
    ListReader,
    ListWriter,
    ParsedList,
    derived_entry_id,
    detect_reader,
    reader_named,
    register_reader,
    writer_named,
)
from tests.unit.list_formats.samples import stand_in, vics2_hash_set, write_json, write_text

ITEMS = [stand_in(seed) for seed in range(3)]


def test_built_in_names() -> None:
    assert list(READERS) == [
        "nsrl",
        "hashdeep",
        "vics",
        "jsonl",
        "te-state",
        "delimited",
        "checksum-text",
        "te-signals",
        "pdq",
        "sha256sum",
    ]
    assert set(WRITERS) == {
        "te-signals",
        "vics",
        "vics-case",
        "csv",
        "tsv",
        "hashdeep",
        "md5sum",
        "sha1sum",
        "sha256sum",
    }
    for reader in READERS.values():
        assert isinstance(reader, ListReader)
        assert reader_named(reader.name) is reader
    for writer in WRITERS.values():
        assert isinstance(writer, ListWriter)
        assert writer_named(writer.name) is writer


@pytest.mark.parametrize(
    ("alias", "name"), [("csv", "delimited"), ("tsv", "delimited"), ("md5sum", "checksum-text")]
)
def test_writer_names_also_name_readers(alias: str, name: str) -> None:
    assert reader_named(alias).name == name


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ListFormatError, match="known: nsrl, hashdeep"):
        reader_named("encase")
    with pytest.raises(ListFormatError, match="csv"):
        writer_named("xml")


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_reader(READERS["vics"])


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("list.csv", "%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n", "hashdeep"),
        ("list.txt", "md5,name\n" + "a" * 32 + ",x\n", "delimited"),
        ("list.json", "a" * 32 + "  x.jpg\n", "checksum-text"),
    ],
)
def test_detection_ignores_misleading_names(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    assert detect_reader(write_text(tmp_path / name, content)).name == expected


def test_vics_named_csv_is_still_vics(tmp_path: Path) -> None:
    path = write_json(tmp_path / "export.csv", vics2_hash_set(ITEMS), bom=True, indent=None)
    assert detect_reader(path).name == "vics"


@pytest.mark.parametrize("content", ["", "   \n", "Dear colleague,\nplease find attached.\n"])
def test_nothing_matches_gives_a_helpful_error(tmp_path: Path, content: str) -> None:
    path = write_text(tmp_path / "letter.txt", content)
    with pytest.raises(ListFormatError) as caught:
        detect_reader(path)
    assert caught.value.source == str(path)
    assert caught.value.record is None


def test_missing_file_is_a_list_format_error(tmp_path: Path) -> None:
    with pytest.raises(ListFormatError, match="cannot read"):
        detect_reader(tmp_path / "absent.csv")


def match_results() -> list[HashEntry]:
    """What triage hands the writers: file paths, sizes, only some digests, often uncategorised."""
    first = {HashAlgorithm.MD5: ITEMS[0].md5, HashAlgorithm.SHA256: ITEMS[0].sha256}
    second = {HashAlgorithm.PDQ: ITEMS[1].pdq}
    third = {HashAlgorithm.SHA1: ITEMS[2].sha1}
    return [
        HashEntry(
            derived_entry_id(first),
            first,
            category_for("project-vic", "1"),
            file_name="/evidence/Users/x/a.jpg",
            size=ITEMS[0].size,
        ),
        HashEntry(
            derived_entry_id(second),
            second,
            UNCATEGORISED,
            file_name="/evidence/Users/x/b.jpg",
            size=ITEMS[1].size,
        ),
        HashEntry(derived_entry_id(third), third, UNCATEGORISED, file_name="c d.png"),
    ]


@pytest.mark.parametrize("writer_name", sorted(WRITERS))
def test_every_writer_exports_match_results_and_reads_back(
    tmp_path: Path, writer_name: str
) -> None:
    writer = writer_named(writer_name)
    buffer = io.StringIO()
    entries = match_results()
    count = writer.write(entries, buffer, ListMetadata(writer_name, suggested_name="results"))
    path = write_text(tmp_path / "export.out", buffer.getvalue())
    reader = detect_reader(path)
    with reader.read(path) as parsed:
        read_back = list(parsed.entries)
    if writer_name == "te-signals":  # one line per digest, no names
        written = {(a, v) for e in entries for a, v in e.digests.items()}
        assert {(a, v) for e in read_back for a, v in e.digests.items()} <= written
        kept = (HashAlgorithm.PDQ, HashAlgorithm.MD5, HashAlgorithm.SHA256)
        assert count == sum(any(a in e.digests for a in kept) for e in entries)
        return
    assert len(read_back) == count
    expected = {e.file_name: e for e in entries}
    for entry in read_back:
        original = expected[entry.file_name]
        for algorithm, value in entry.digests.items():
            assert original.digests[algorithm] == value
        if writer_name in ("vics", "vics-case", "csv", "tsv"):
            assert entry == original
    if writer_name in ("vics", "vics-case", "csv", "tsv"):
        assert count == 3


def test_parsed_list_is_a_context_manager(tmp_path: Path) -> None:
    path = write_text(tmp_path / "x.md5", f"{ITEMS[0].md5}  a\n{ITEMS[1].md5}  b\n")
    with detect_reader(path).read(path) as parsed:
        assert isinstance(parsed, ParsedList)
        next(parsed.entries)
    assert list(parsed.entries) == []
