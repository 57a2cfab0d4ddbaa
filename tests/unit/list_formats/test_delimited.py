from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import (
    INDUSTRY,
    PROJECT_VIC,
    UK_SENTENCING,
    UNCATEGORISED,
    HashEntry,
    Provenance,
    category_for,
)
from safeguard.list_formats import ErrorPolicy, ListMetadata, derived_entry_id
from safeguard.list_formats.delimited import THREATEXCHANGE_SCHEME, DelimitedReader
from safeguard.list_formats.delimited_writer import DelimitedWriter
from tests.contracts.list_reader_contract import ListReaderContract
from tests.unit.list_formats.samples import stand_in, write_text

ITEMS = [stand_in(seed) for seed in range(5)]


def generic_csv() -> str:
    rows = [
        f'{i + 1},{item.md5},{item.sha1},{item.sha256},{code},"stand-in {i}, copy.jpg",{item.size}'
        for i, (item, code) in enumerate(zip(ITEMS, ["0", "A", "B1", "", "3"], strict=True))
    ]
    return "ID,MD5,SHA-1,sha_256,Category,File Name,Size,Unused\n".replace(",Unused", "") + (
        "\n".join(rows) + "\n"
    )


class TestDelimitedReaderContract(ListReaderContract):
    @pytest.fixture
    def reader(self) -> DelimitedReader:
        return DelimitedReader()

    @pytest.fixture
    def example(self, tmp_path: Path) -> Path:
        return write_text(tmp_path / "list.csv", generic_csv())

    @pytest.fixture
    def expected_count(self) -> int:
        return len(ITEMS)


def read_all(path: Path, reader: DelimitedReader | None = None) -> list[HashEntry]:
    with (reader or DelimitedReader()).read(path) as parsed:
        return list(parsed.entries)


def test_generic_csv_maps_header_names_and_categories(tmp_path: Path) -> None:
    entries = read_all(write_text(tmp_path / "g.csv", generic_csv(), bom=True))
    assert entries[0].entry_id == "1"
    assert entries[0].digests == {
        HashAlgorithm.MD5: ITEMS[0].md5,
        HashAlgorithm.SHA1: ITEMS[0].sha1,
        HashAlgorithm.SHA256: ITEMS[0].sha256,
    }
    assert [e.category for e in entries] == [
        category_for(PROJECT_VIC, "0"),
        category_for(UK_SENTENCING, "A"),
        category_for(INDUSTRY, "B1"),
        UNCATEGORISED,
        category_for(PROJECT_VIC, "3"),
    ]
    assert entries[0].file_name == "stand-in 0, copy.jpg"
    assert entries[0].size == ITEMS[0].size


def test_tsv_with_pdq_and_unknown_columns(tmp_path: Path) -> None:
    text = "pdq\tquality\tlabel\n" + "".join(f"{i.pdq}\t100\tx\n" for i in ITEMS[:2])
    path = write_text(tmp_path / "hashes.tsv", text)
    with DelimitedReader().read(path) as parsed:
        entries = list(parsed.entries)
    assert parsed.metadata.stated["delimiter"] == "\t"
    assert parsed.metadata.stated["ignored_columns"] == "label"
    assert entries[1].digests == {HashAlgorithm.PDQ: ITEMS[1].pdq}
    assert entries[1].entry_id == f"pdq:{ITEMS[1].pdq}"


def test_threatexchange_dataset_csv(tmp_path: Path) -> None:
    # The shape `threatexchange dataset -P --csv` prints (threatexchange/cli/dataset_cmd.py).
    text = (
        "signal_type,signal_str,collab,category,tags\r\n"
        f"pdq,{ITEMS[0].pdq},Stand-in Collab,POSITIVE_CLASS,tag_a tag_b\r\n"
        f"video_md5,{ITEMS[1].md5},Stand-in Collab,INVESTIGATION_SEED,\r\n"
        "url,https://example.invalid/x,Stand-in Collab,POSITIVE_CLASS,\r\n"
    )
    path = write_text(tmp_path / "collab.csv", text)
    with DelimitedReader().read(path) as parsed:
        entries = list(parsed.entries)
    assert parsed.metadata.category_scheme == THREATEXCHANGE_SCHEME
    assert parsed.report.ignored == 1  # the URL signal
    assert entries[0].digests == {HashAlgorithm.PDQ: ITEMS[0].pdq}
    assert entries[0].category.scheme == THREATEXCHANGE_SCHEME
    assert entries[0].category.code == "POSITIVE_CLASS"
    assert entries[0].provenance.notes == "collab: Stand-in Collab\ntags: tag_a tag_b"
    assert entries[1].digests == {HashAlgorithm.MD5: ITEMS[1].md5}


def test_threatexchange_api_query_csv(tmp_path: Path) -> None:
    # The default columns of `threatexchange api fb_threatexchange query`.
    text = (
        "id,indicator,type,status,tags,owner_id\n"
        f"1234567890,{ITEMS[0].pdq},HASH_PDQ,MALICIOUS,csam,42\n"
        f"1234567891,{ITEMS[1].md5},HASH_MD5,MALICIOUS,,42\n"
    )
    entries = read_all(write_text(tmp_path / "query.csv", text))
    assert [e.entry_id for e in entries] == ["1234567890", "1234567891"]
    assert entries[0].digests == {HashAlgorithm.PDQ: ITEMS[0].pdq}
    assert entries[1].digests == {HashAlgorithm.MD5: ITEMS[1].md5}


def test_icse_style_semicolon_csv(tmp_path: Path) -> None:
    text = (
        "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Series name\n"
        f"{ITEMS[0].md5.upper()};{ITEMS[0].sha1};{ITEMS[0].photodna};77;true;1;Stand-in\n"
    )
    entries = read_all(write_text(tmp_path / "icse.csv", text))
    assert entries[0].entry_id == "77"
    assert entries[0].digests[HashAlgorithm.PHOTODNA] == ITEMS[0].photodna
    assert entries[0].provenance.victim_identified is True
    assert entries[0].provenance.series == "Stand-in"


def test_category_scheme_can_be_forced(tmp_path: Path) -> None:
    text = f"md5,category\n{ITEMS[0].md5},1\n"
    entries = read_all(write_text(tmp_path / "c.csv", text), DelimitedReader("vics-uk"))
    assert entries[0].category.scheme == "vics-uk"


def test_bare_hash_column_guesses_by_length_and_rejects_ambiguous(tmp_path: Path) -> None:
    text = f"hash,name\n{ITEMS[0].md5},a\n{ITEMS[0].sha1},b\n{ITEMS[0].sha256},c\n"
    path = write_text(tmp_path / "h.csv", text)
    parsed = DelimitedReader().read(path)
    assert next(parsed.entries).digests == {HashAlgorithm.MD5: ITEMS[0].md5}
    assert next(parsed.entries).digests == {HashAlgorithm.SHA1: ITEMS[0].sha1}
    with pytest.raises(ListFormatError, match="ambiguous") as caught:
        next(parsed.entries)
    assert caught.value.record == 4


def test_odd_metadata_keeps_the_hash_and_the_text(tmp_path: Path) -> None:
    text = f"md5,file_name,victim_identified,last_seen\n{ITEMS[1].md5},x.jpg,maybe,05/06/2020\n"
    with DelimitedReader().read(write_text(tmp_path / "odd.csv", text)) as parsed:
        (entry,) = list(parsed.entries)
    assert entry.digests == {HashAlgorithm.MD5: ITEMS[1].md5}
    assert entry.provenance.victim_identified is None
    assert entry.provenance.last_seen is None  # day and month ambiguous: kept as text
    assert "victim_identified: maybe" in (entry.provenance.notes or "")
    assert "last_seen: 05/06/2020" in (entry.provenance.notes or "")
    assert parsed.report.skipped == 0
    assert sum(parsed.report.notes.values()) == 2


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("{md5},x.jpg", "fields"),
        ("deadbeef,x.jpg,true", "md5"),
        (",x.jpg,true", "no digest"),
    ],
)
def test_bad_rows_name_their_line(tmp_path: Path, row: str, reason: str) -> None:
    good = f"{ITEMS[0].md5},ok.jpg,false"
    text = f"md5,file_name,victim_identified\n{good}\n\n{row.format(md5=ITEMS[1].md5)}\n{good}\n"
    path = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(ListFormatError) as caught:
        read_all(path)
    assert caught.value.record == 4
    assert reason in caught.value.reason.lower()
    with DelimitedReader().read(path, errors=ErrorPolicy.LENIENT) as parsed:
        assert len(list(parsed.entries)) == 2
    assert parsed.report.skipped == 1


def test_header_without_digest_column_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(ListFormatError, match="digest column"):
        DelimitedReader().read(write_text(tmp_path / "x.csv", "name,size\na,1\n"))


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_writer_round_trip(tmp_path: Path, delimiter: str) -> None:
    item = ITEMS[0]
    all_digests = {
        HashAlgorithm.MD5: item.md5,
        HashAlgorithm.SHA1: item.sha1,
        HashAlgorithm.SHA256: item.sha256,
        HashAlgorithm.PDQ: item.pdq,
        HashAlgorithm.PHOTODNA: item.photodna,
    }
    entries = [
        HashEntry(
            "list-id-1",
            all_digests,
            category_for(INDUSTRY, "A2"),
            Provenance(
                "src-9", "Series, quoted", False, date(2019, 1, 1), date(2024, 2, 2), "n\nl"
            ),
            'dir/a "b".jpg',
            item.size,
        ),
        HashEntry(
            derived_entry_id({HashAlgorithm.SHA256: ITEMS[1].sha256}),
            {HashAlgorithm.SHA256: ITEMS[1].sha256},
            file_name="C:\\found\\x.png",
            size=12,
        ),
        HashEntry("n-1", {HashAlgorithm.MD5: ITEMS[2].md5}, category_for("custom", "Z")),
    ]
    buffer = io.StringIO()
    writer = DelimitedWriter(delimiter)
    assert writer.write(entries, buffer, ListMetadata("csv")) == 3
    assert read_all(write_text(tmp_path / f"out.{writer.name}", buffer.getvalue())) == entries
