"""The fast paths of the delimited reader give exactly what the csv module and the per-row
parser give: plain lines split directly, plain layouts read in column batches."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats import ErrorPolicy
from safeguard.list_formats import delimited as delimited_module
from safeguard.list_formats.contract import ReadReport
from safeguard.list_formats.delimited import DelimitedReader
from safeguard.list_formats.delimited_rows import numbered_rows
from safeguard.list_formats.entry_columns import ColumnarEntries, EntryColumns
from tests.contracts.list_reader_contract import ListReaderContract
from tests.unit.list_formats.samples import stand_in, write_text

ITEMS = [stand_in(seed) for seed in range(6)]


class TestPlainLayoutReaderContract(ListReaderContract):
    """The reader contract on the column-batch path (an ``id,pdq`` list)."""

    @pytest.fixture
    def reader(self) -> DelimitedReader:
        return DelimitedReader()

    @pytest.fixture
    def example(self, tmp_path: Path) -> Path:
        rows = "".join(f"e{i},{item.pdq}\n" for i, item in enumerate(ITEMS))
        return write_text(tmp_path / "list.csv", "id,pdq\n" + rows)

    @pytest.fixture
    def expected_count(self) -> int:
        return len(ITEMS)


def csv_module_rows(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The rows as the csv module alone reads them (the reader's behaviour before)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        seen_header = False
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if not seen_header:
                seen_header = not row[0].startswith("#")
                continue
            yield reader.line_num, row


ODD_FILES = {
    "quoted cells": 'id,md5\n"1","{a}"\n2,{b}\n',
    "a quoted cell over two lines": 'id,md5,notes\n1,{a},"first\nsecond"\n2,{b},plain\n',
    "CRLF endings": "id,md5\r\n1,{a}\r\n2,{b}\r\n",
    "lone CR endings": "id,md5\r1,{a}\r2,{b}\r",
    "blank and blank-celled lines": "id,md5\n\n  \n , \n1,{a}\n\n2,{b}\n",
    "comments before the header": "# exported\n#  by a tool\nid,md5\n1,{a}\n",
    "a quote inside a cell": 'id,md5,notes\n1,{a},say "hi"\n',
    "doubled quotes": 'id,md5,notes\n1,{a},"a ""b"" c"\n2,{b},x\n',
    "a NUL": "id,md5,notes\n1,{a},x\x00y\n2,{b},z\n",
    "no final newline": "id,md5\n1,{a}\n2,{b}",
    "trailing blanks": "id,md5 \n1 ,{a} \n",
}


@pytest.mark.parametrize("name", sorted(ODD_FILES))
@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_rows_match_the_csv_module(tmp_path: Path, name: str, delimiter: str) -> None:
    text = ODD_FILES[name].format(a=ITEMS[0].md5, b=ITEMS[1].md5).replace(",", delimiter)
    path = write_text(tmp_path / "odd.csv", text, bom=name == "CRLF endings")
    assert list(numbered_rows(path, str(path), delimiter)) == list(csv_module_rows(path, delimiter))


def test_random_lines_match_the_csv_module(tmp_path: Path) -> None:
    rng = random.Random(7)
    alphabet = ['"', ",", "a", "b", " ", "\n", "\r\n", "#", "\t", "1"]
    lines = ["id,md5,notes"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(400)
    ]
    path = write_text(tmp_path / "random.csv", "\n".join(lines))
    try:
        expected = list(csv_module_rows(path, ","))
    except csv.Error:  # an unterminated quote at the end: both refuse it
        with pytest.raises(ListFormatError, match="unreadable CSV"):
            list(numbered_rows(path, str(path), ","))
        return
    assert list(numbered_rows(path, str(path), ",")) == expected


def read(
    path: Path, policy: ErrorPolicy = ErrorPolicy.STRICT
) -> tuple[list[HashEntry], ReadReport]:
    with DelimitedReader().read(path, errors=policy) as parsed:
        return list(parsed.entries), parsed.report


def read_row_by_row(
    path: Path, monkeypatch: pytest.MonkeyPatch, policy: ErrorPolicy = ErrorPolicy.STRICT
) -> tuple[list[HashEntry], ReadReport]:
    with monkeypatch.context() as patch:
        patch.setattr(delimited_module._Layout, "plain", property(lambda _: False))
        return read(path, policy)


PLAIN_FILES = {
    "id and pdq": "id,pdq\n" + "".join(f"e{i},{item.pdq}\n" for i, item in enumerate(ITEMS)),
    "no id column": "md5,sha1\n" + "".join(f"{item.md5},{item.sha1}\n" for item in ITEMS),
    "upper-case and 0x digests": "id,pdq\n"
    + "".join(f"e{i},0x{item.pdq.upper()}\n" for i, item in enumerate(ITEMS)),
    "an empty cell": f"id,md5,sha1\n1,,{ITEMS[0].sha1}\n2,{ITEMS[1].md5},{ITEMS[1].sha1}\n",
    "ids with blanks and repeats": "id,pdq\n"
    + "".join(f" e{i % 3} ,{item.pdq}\n" for i, item in enumerate(ITEMS)),
    "an ignored column": "id,pdq,colour\n"
    + "".join(f"e{i},{item.pdq},blue\n" for i, item in enumerate(ITEMS)),
}


@pytest.mark.parametrize("name", sorted(PLAIN_FILES))
def test_plain_layouts_read_in_columns_as_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = write_text(tmp_path / "plain.csv", PLAIN_FILES[name])
    with DelimitedReader().read(path) as parsed:
        assert isinstance(parsed.entries, ColumnarEntries)
    entries, report = read(path)
    assert (entries, report) == read_row_by_row(path, monkeypatch)
    assert report.entries == len(entries) > 0


def test_a_bad_row_in_a_plain_layout_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = [f"e{i},{item.pdq}" for i, item in enumerate(ITEMS)]
    text = "id,pdq\n" + "\n".join([*good[:2], "", "e9,not-a-pdq-hash", *good[2:]]) + "\n"
    path = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(ListFormatError) as caught:
        read(path)
    assert caught.value.record == 5
    assert "pdq" in caught.value.reason
    entries, report = read(path, ErrorPolicy.LENIENT)
    row_entries, row_report = read_row_by_row(path, monkeypatch, ErrorPolicy.LENIENT)
    assert entries == row_entries
    assert [str(p) for p in report.problems] == [str(p) for p in row_report.problems]
    assert len(entries) == len(ITEMS)
    assert (report.records, report.skipped, report.last_record) == (len(ITEMS) + 1, 1, 9)


def test_plain_batches_and_entries_are_one_stream(tmp_path: Path) -> None:
    text = "id,pdq\n" + "".join(f"e{i},{item.pdq}\n" for i, item in enumerate(ITEMS))
    with DelimitedReader().read(write_text(tmp_path / "l.csv", text)) as parsed:
        entries = parsed.entries
        assert isinstance(entries, ColumnarEntries)
        (batch,) = list(entries.batches())
    assert batch.rows == len(ITEMS)
    # Only what differs from an uncategorised entry without provenance travels.
    assert set(batch.columns) == {"entry_id", "pdq", "source_record_id"}
    assert [e.entry_id for e in batch.entries()] == [f"e{i}" for i in range(len(ITEMS))]


def test_entry_columns_round_trip_any_entry(tmp_path: Path) -> None:
    from tests.unit.list_formats.test_delimited import generic_csv

    with DelimitedReader().read(write_text(tmp_path / "g.csv", generic_csv())) as parsed:
        entries = list(parsed.entries)
    assert list(EntryColumns.of_entries(entries).entries()) == entries
    with pytest.raises(ValueError, match="holds 1 values"):
        EntryColumns.of_columns(2, {"entry_id": ["a", "b"], "md5": [None]})
