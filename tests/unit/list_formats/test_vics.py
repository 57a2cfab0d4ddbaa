from __future__ import annotations

import io
import json
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
    ListKind,
    Provenance,
    category_for,
)
from safeguard.list_formats import ErrorPolicy, ListMetadata
from safeguard.list_formats.vics import VICS_UK_NUMERIC, VicsReader
from safeguard.list_formats.vics_writer import VicsWriter
from tests.contracts.list_reader_contract import ListReaderContract
from tests.unit.list_formats.samples import (
    VICS2_UK_CASES_CONTEXT,
    stand_in,
    vics2_case,
    vics2_hash_set,
    vics13_hash_set,
    write_json,
    write_text,
)

ITEMS = [stand_in(seed) for seed in range(6)]


class TestVicsReaderContract(ListReaderContract):
    @pytest.fixture
    def reader(self) -> VicsReader:
        return VicsReader()

    @pytest.fixture
    def example(self, tmp_path: Path) -> Path:
        return write_json(tmp_path / "set.json", vics2_hash_set(ITEMS), bom=True)

    @pytest.fixture
    def expected_count(self) -> int:
        return len(ITEMS)


def read_all(path: Path, **options: object) -> tuple[ListMetadata, list[HashEntry]]:
    with VicsReader().read(path, **options) as parsed:  # type: ignore[arg-type]
        return parsed.metadata, list(parsed.entries)


def test_vics2_hash_set_with_bom_and_string_booleans(tmp_path: Path) -> None:
    path = write_json(tmp_path / "national.json", vics2_hash_set(ITEMS), bom=True)
    metadata, entries = read_all(path)
    assert metadata.format_name == "vics"
    assert metadata.suggested_kind is ListKind.KNOWN_BAD
    assert metadata.stated["vics_version"] == "2.0"
    assert metadata.stated["vics_region"] == "Default"
    first, second = entries[0], entries[1]
    # MediaID is provenance, not the key (cases each number from 1): ids come from digests.
    assert first.entry_id == "sha1:" + ITEMS[0].sha1
    assert first.digests[HashAlgorithm.MD5] == ITEMS[0].md5
    assert first.digests[HashAlgorithm.SHA1] == ITEMS[0].sha1
    assert first.digests[HashAlgorithm.PHOTODNA] == ITEMS[0].photodna
    # Category 0 is Non-pertinent, not "no category".
    assert first.category == category_for(PROJECT_VIC, "0")
    assert not first.category.is_uncategorised
    assert first.provenance.victim_identified is False
    assert second.provenance.victim_identified is True
    assert first.provenance.last_seen == date(2023, 6, 7)
    assert first.provenance.series == "stand-in series 0"
    assert first.provenance.source_record_id == "1000"
    assert first.size == ITEMS[0].size
    assert "Tags: synthetic, test" in (first.provenance.notes or "")


def test_vics13_hash_set_with_alternative_hashes_and_string_numbers(tmp_path: Path) -> None:
    path = write_json(tmp_path / "legacy.json", vics13_hash_set(ITEMS[:3]))
    metadata, entries = read_all(path)
    assert metadata.stated["vics_version"] == "1.3"
    assert "odata.metadata" in metadata.stated
    entry = entries[1]
    assert entry.provenance.source_record_id == str(2000 + ITEMS[1].seed)
    assert entry.digests[HashAlgorithm.SHA1] == ITEMS[1].sha1
    assert entry.digests[HashAlgorithm.PHOTODNA] == ITEMS[1].photodna
    assert entry.category == category_for(PROJECT_VIC, "2")
    assert entry.size == ITEMS[1].size
    assert entry.provenance.victim_identified is False
    assert entry.provenance.last_seen == date(2023, 6, 7)  # from /Date(ms)/


def test_vics2_case_streams_media_and_keeps_case_fields(tmp_path: Path) -> None:
    path = write_json(tmp_path / "case.json", vics2_case(ITEMS[:3]))
    metadata, entries = read_all(path)
    assert metadata.stated["CaseNumber"] == "OP-STANDIN-1"
    assert metadata.source == "Test Unit"
    assert [e.provenance.source_record_id for e in entries] == ["1", "2", "3"]
    assert entries[0].category is UNCATEGORISED  # null category
    assert entries[1].category == category_for(PROJECT_VIC, "1")
    assert entries[0].file_name == "Partition 1\\Users\\examiner\\Pictures\\stand-in-0.jpg"


def test_uk_case_numeric_codes_stay_apart_from_project_vic(tmp_path: Path) -> None:
    path = write_json(tmp_path / "uk.json", vics2_case(ITEMS[:2], VICS2_UK_CASES_CONTEXT))
    metadata, entries = read_all(path)
    assert metadata.category_scheme == VICS_UK_NUMERIC
    assert entries[1].category.scheme == VICS_UK_NUMERIC
    assert entries[1].category.code == "1"


def test_letter_codes_map_to_their_schemes(tmp_path: Path) -> None:
    document = vics2_hash_set(ITEMS[:3])
    media = document["value"]
    assert isinstance(media, list)
    media[0]["Category"] = "A"
    media[1]["Category"] = "b2"
    media[2]["Category"] = "3"
    _, entries = read_all(write_json(tmp_path / "codes.json", document))
    assert entries[0].category == category_for(UK_SENTENCING, "A")
    assert entries[1].category == category_for(INDUSTRY, "B2")
    assert entries[2].category == category_for(PROJECT_VIC, "3")


def test_truncated_download_raises_list_format_error_not_ijson(tmp_path: Path) -> None:
    text = json.dumps(vics2_hash_set(ITEMS), indent=1)
    cut = text.index('"MediaID": 1003')  # part-way through the fourth record
    path = write_text(tmp_path / "truncated.json", text[:cut])
    parsed = VicsReader().read(path)
    seen = []
    with pytest.raises(ListFormatError) as caught:
        seen.extend(parsed.entries)
    assert len(seen) == 3
    assert caught.value.source == str(path)
    assert caught.value.record == 4
    assert "truncated" in caught.value.reason
    # No digest from the file leaks into the message.
    assert ITEMS[3].md5.upper()[:8] not in str(caught.value)


def test_truncated_even_lenient_fails(tmp_path: Path) -> None:
    text = json.dumps(vics2_hash_set(ITEMS))
    path = write_text(tmp_path / "cut.json", text[: len(text) - 5])
    with pytest.raises(ListFormatError):
        read_all(path, errors=ErrorPolicy.LENIENT)


def test_malformed_record_names_file_and_record(tmp_path: Path) -> None:
    document = vics2_hash_set(ITEMS)
    media = document["value"]
    assert isinstance(media, list)
    media[2]["MD5"] = "not-a-digest"
    path = write_json(tmp_path / "bad.json", document)
    with pytest.raises(ListFormatError) as caught:
        read_all(path)
    assert caught.value.record == 3
    assert "MD5" in caught.value.reason
    assert str(path) in str(caught.value)


def test_lenient_skips_and_reports_malformed_records(tmp_path: Path) -> None:
    document = vics2_hash_set(ITEMS)
    media = document["value"]
    assert isinstance(media, list)
    media[1]["VictimIdentified"] = "perhaps"  # odd metadata: the hashes are kept
    media[4] = {"MediaID": 9, "Category": 1}  # no digest at all
    path = write_json(tmp_path / "mixed.json", document)
    with VicsReader().read(path, errors=ErrorPolicy.LENIENT) as parsed:
        entries = list(parsed.entries)
    assert len(entries) == len(ITEMS) - 1
    assert parsed.report.skipped == 1
    assert [p.record for p in parsed.report.problems] == [5]
    assert entries[1].provenance.victim_identified is None
    assert "VictimIdentified: perhaps" in (entries[1].provenance.notes or "")
    assert parsed.report.notes == {"VictimIdentified not readable, kept as text in the notes": 1}


def test_placeholder_photodna_is_dropped_and_counted(tmp_path: Path) -> None:
    document = vics2_hash_set(ITEMS[:2])
    media = document["value"]
    assert isinstance(media, list)
    media[0]["PhotoDNA"] = "A" * 192  # base64 of 144 zero bytes
    with VicsReader().read(write_json(tmp_path / "p.json", document)) as parsed:
        entries = list(parsed.entries)
    assert HashAlgorithm.PHOTODNA not in entries[0].digests
    assert HashAlgorithm.MD5 in entries[0].digests
    assert parsed.report.notes == {"placeholder PhotoDNA value dropped": 1}


@pytest.mark.parametrize(
    "text",
    ["this is not json", '{"@odata.context": "x", "other": []}', "[1, 2, 3]"],
)
def test_not_vics_fails_at_once(tmp_path: Path, text: str) -> None:
    path = write_text(tmp_path / "x.json", text)
    with pytest.raises(ListFormatError):
        read_all(path)


def test_writer_round_trip_keeps_everything(tmp_path: Path) -> None:
    entries = [
        HashEntry(
            entry_id="42",
            digests={
                HashAlgorithm.MD5: ITEMS[0].md5,
                HashAlgorithm.SHA1: ITEMS[0].sha1,
                HashAlgorithm.SHA256: ITEMS[0].sha256,
                HashAlgorithm.PDQ: ITEMS[0].pdq,
                HashAlgorithm.PHOTODNA: ITEMS[0].photodna,
            },
            category=category_for(PROJECT_VIC, "1"),
            provenance=Provenance(
                source_record_id="42",
                series="S",
                victim_identified=True,
                first_seen=date(2020, 1, 2),
                last_seen=date(2021, 3, 4),
                notes="stand-in",
            ),
            file_name="evidence/dir, with comma/stand-in.jpg",
            size=ITEMS[0].size,
        ),
        # A match result: only some digests, uncategorised, a path, no list id.
        HashEntry(
            entry_id="sha256:" + ITEMS[1].sha256,
            digests={HashAlgorithm.SHA256: ITEMS[1].sha256},
            file_name="C:\\Users\\x\\found.png",
            size=10,
        ),
        HashEntry(
            entry_id="uk-1",
            digests={HashAlgorithm.MD5: ITEMS[2].md5},
            category=category_for(UK_SENTENCING, "B"),
        ),
    ]
    for writer in (VicsWriter(), VicsWriter("UK", as_case=True)):
        buffer = io.StringIO()
        count = writer.write(entries, buffer, ListMetadata(format_name="vics", version="7"))
        assert count == 3
        path = write_text(tmp_path / f"{writer.name}.json", buffer.getvalue())
        assert VicsReader().detect(path.read_bytes()[:8192], path)
        _, read_back = read_all(path)
        for got, want in zip(read_back, entries, strict=True):
            assert got == want, (writer.name, got, want)
