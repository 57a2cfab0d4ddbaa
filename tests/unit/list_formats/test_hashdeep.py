from __future__ import annotations

import io
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry, category_for
from safeguard.list_formats import ListMetadata, derived_entry_id
from safeguard.list_formats.hashdeep import HashdeepReader, HashdeepWriter
from tests.contracts.list_reader_contract import ListReaderContract
from tests.unit.list_formats.samples import stand_in, write_text

ITEMS = [stand_in(seed) for seed in range(3)]


def hashdeep_text() -> str:
    rows = "".join(
        f"{item.size},{item.md5},{item.sha256},/evidence/stand-in {item.seed}, copy.jpg\n"
        for item in ITEMS
    )
    return (
        "%%%% HASHDEEP-1.0\n"
        "%%%% size,md5,sha256,filename\n"
        "## Invoked from: /home/examiner\n"
        "## $ hashdeep -r /evidence\n"
        "##\n" + rows
    )


class TestHashdeepReaderContract(ListReaderContract):
    @pytest.fixture
    def reader(self) -> HashdeepReader:
        return HashdeepReader()

    @pytest.fixture
    def example(self, tmp_path: Path) -> Path:
        return write_text(tmp_path / "known.hashdeep", hashdeep_text())

    @pytest.fixture
    def expected_count(self) -> int:
        return len(ITEMS)


def read_all(path: Path) -> tuple[ListMetadata, list[HashEntry]]:
    with HashdeepReader().read(path) as parsed:
        return parsed.metadata, list(parsed.entries)


def test_reads_rows_comments_and_commas_in_names(tmp_path: Path) -> None:
    metadata, entries = read_all(write_text(tmp_path / "k.txt", hashdeep_text()))
    assert metadata.stated == {"invoked_from": "/home/examiner", "command": "hashdeep -r /evidence"}
    assert entries[1].file_name == "/evidence/stand-in 1, copy.jpg"
    assert entries[1].size == ITEMS[1].size
    assert entries[1].digests == {
        HashAlgorithm.MD5: ITEMS[1].md5,
        HashAlgorithm.SHA256: ITEMS[1].sha256,
    }


def test_ignores_tiger_and_whirlpool_columns(tmp_path: Path) -> None:
    text = f"%%%% HASHDEEP-1.0\n%%%% size,md5,tiger,filename\n5,{ITEMS[0].md5},{'ab' * 24},x.jpg\n"
    _, entries = read_all(write_text(tmp_path / "t.txt", text))
    assert entries[0].digests == {HashAlgorithm.MD5: ITEMS[0].md5}


@pytest.mark.parametrize(
    ("text", "record"),
    [
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n5,zz,x\n", 3),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## c\nfive," + "a" * 32 + ",x\n", 4),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,sha1,filename\n5," + "a" * 32 + "\n", 3),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,crc32,filename\n", 2),
        ("%%%% HASHDEEP-1.0\n## no column line\n", 2),
    ],
)
def test_bad_rows_name_their_line(tmp_path: Path, text: str, record: int) -> None:
    path = write_text(tmp_path / "bad.txt", text)
    with pytest.raises(ListFormatError) as caught:
        read_all(path)
    assert caught.value.record == record
    assert caught.value.source == str(path)


def test_writer_columns_follow_the_data(tmp_path: Path) -> None:
    full = {HashAlgorithm.MD5: ITEMS[0].md5, HashAlgorithm.SHA1: ITEMS[0].sha1}
    more = {
        HashAlgorithm.MD5: ITEMS[1].md5,
        HashAlgorithm.SHA1: ITEMS[1].sha1,
        HashAlgorithm.SHA256: ITEMS[1].sha256,
    }
    entries = [
        HashEntry(derived_entry_id(full), full, file_name="a,b.jpg", size=3),
        HashEntry(derived_entry_id(more), more, file_name="c.jpg", size=None),
        HashEntry("pdq-only", {HashAlgorithm.PDQ: ITEMS[2].pdq}),  # not representable
    ]
    buffer = io.StringIO()
    written = HashdeepWriter().write(entries, buffer, ListMetadata("x", suggested_name="L"))
    assert written == 2
    # Only the columns every entry has: no empty hash field, which real hashdeep refuses.
    assert buffer.getvalue().startswith("%%%% HASHDEEP-1.0\n%%%% size,md5,sha1,filename\n")
    _, read_back = read_all(write_text(tmp_path / "out.hashdeep", buffer.getvalue()))
    assert read_back[0] == entries[0]
    assert read_back[1].digests == {a: more[a] for a in (HashAlgorithm.MD5, HashAlgorithm.SHA1)}


def test_writer_with_chosen_columns_leaves_out_entries_lacking_one() -> None:
    only_md5 = {HashAlgorithm.MD5: ITEMS[0].md5}
    both = {HashAlgorithm.MD5: ITEMS[1].md5, HashAlgorithm.SHA256: ITEMS[1].sha256}
    entries = [HashEntry("a", only_md5), HashEntry("b", both)]
    buffer = io.StringIO()
    chosen = [HashAlgorithm.MD5, HashAlgorithm.SHA256]
    assert HashdeepWriter(chosen).write(entries, buffer, ListMetadata("x")) == 1
    assert ",," not in buffer.getvalue()


def test_writer_drops_category_but_keeps_digests(tmp_path: Path) -> None:
    digests = {HashAlgorithm.MD5: ITEMS[0].md5}
    entry = HashEntry("7", digests, category=category_for("project-vic", "1"), file_name="f")
    buffer = io.StringIO()
    HashdeepWriter([HashAlgorithm.MD5]).write([entry], buffer, ListMetadata("x"))
    _, read_back = read_all(write_text(tmp_path / "o.txt", buffer.getvalue()))
    assert read_back[0].digests == digests
