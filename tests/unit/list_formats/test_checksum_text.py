from __future__ import annotations

import io
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats import ErrorPolicy, ListMetadata, derived_entry_id
from safeguard.list_formats.checksum_text import ChecksumTextReader, ChecksumTextWriter
from tests.contracts.list_reader_contract import ListReaderContract
from tests.unit.list_formats.samples import stand_in, write_text

ITEMS = [stand_in(seed) for seed in range(4)]


def md5sum_text() -> str:
    return (
        "# stand-in list written by the test\n"
        f"{ITEMS[0].md5}  holiday photo.jpg\n"
        f"{ITEMS[1].md5} *binary mode/with spaces .png\n"
        "\n"
        f"{ITEMS[2].md5.upper()}\n"
        f"\\{ITEMS[3].md5}  odd\\nname\\\\x.gif\n"
    )


class TestChecksumTextReaderContract(ListReaderContract):
    @pytest.fixture
    def reader(self) -> ChecksumTextReader:
        return ChecksumTextReader()

    @pytest.fixture
    def example(self, tmp_path: Path) -> Path:
        return write_text(tmp_path / "list.md5", md5sum_text())

    @pytest.fixture
    def expected_count(self) -> int:
        return 4


def read_all(path: Path, **options: object) -> list[HashEntry]:
    with ChecksumTextReader().read(path, **options) as parsed:  # type: ignore[arg-type]
        return list(parsed.entries)


def test_md5sum_names_binary_marker_spaces_and_escapes(tmp_path: Path) -> None:
    entries = read_all(write_text(tmp_path / "a.md5", md5sum_text(), bom=True))
    assert [e.file_name for e in entries] == [
        "holiday photo.jpg",
        "binary mode/with spaces .png",
        None,
        "odd\nname\\x.gif",
    ]
    assert entries[2].digests == {HashAlgorithm.MD5: ITEMS[2].md5}
    assert entries[0].entry_id == derived_entry_id({HashAlgorithm.MD5: ITEMS[0].md5})


def test_sha1sum_sha256sum_and_bsd_tag_lines(tmp_path: Path) -> None:
    text = (
        f"{ITEMS[0].sha1}  one.jpg\n"
        f"{ITEMS[1].sha256} *two.jpg\n"
        f"SHA256 (three.jpg) = {ITEMS[2].sha256}\r\n"
    )
    entries = read_all(write_text(tmp_path / "sums.txt", text))
    assert entries[0].digests == {HashAlgorithm.SHA1: ITEMS[0].sha1}
    assert entries[1].digests == {HashAlgorithm.SHA256: ITEMS[1].sha256}
    assert entries[2].digests == {HashAlgorithm.SHA256: ITEMS[2].sha256}
    assert entries[2].file_name == "three.jpg"


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    text = f"{ITEMS[0].md5}  ok.jpg\n{ITEMS[1].md5[:-3]}  short.jpg\n"
    path = write_text(tmp_path / "bad.md5", text)
    with pytest.raises(ListFormatError) as caught:
        read_all(path)
    assert caught.value.record == 2
    assert caught.value.source == str(path)


def test_lenient_skips_bad_lines(tmp_path: Path) -> None:
    text = f"{ITEMS[0].md5}  ok.jpg\nrubbish\n{ITEMS[1].md5}  ok2.jpg\n"
    with ChecksumTextReader().read(
        write_text(tmp_path / "m.md5", text), errors=ErrorPolicy.LENIENT
    ) as parsed:
        assert len(list(parsed.entries)) == 2
    assert parsed.report.skipped == 1
    assert parsed.report.problems[0].record == 2


def test_writer_round_trip_skips_entries_without_the_digest(tmp_path: Path) -> None:
    entries = [
        HashEntry(
            derived_entry_id({HashAlgorithm.SHA256: ITEMS[0].sha256}),
            {HashAlgorithm.SHA256: ITEMS[0].sha256},
            file_name="dir\\win name.jpg",
        ),
        HashEntry("x", {HashAlgorithm.MD5: ITEMS[1].md5}),
        HashEntry(
            derived_entry_id({HashAlgorithm.SHA256: ITEMS[2].sha256}),
            {HashAlgorithm.SHA256: ITEMS[2].sha256},
            file_name="new\nline.jpg",
        ),
    ]
    buffer = io.StringIO()
    assert ChecksumTextWriter(HashAlgorithm.SHA256).write(entries, buffer, ListMetadata("x")) == 2
    read_back = read_all(write_text(tmp_path / "out.sha256", buffer.getvalue()))
    assert read_back == [entries[0], entries[2]]


def test_writer_refuses_pdq() -> None:
    with pytest.raises(ValueError, match="pdq"):
        ChecksumTextWriter(HashAlgorithm.PDQ)


def test_bare_values_are_read_in_column_batches(tmp_path: Path) -> None:
    from safeguard.list_formats.entry_columns import ColumnarEntries

    items = [stand_in(seed) for seed in range(4)]
    text = "# threatexchange dataset -S\n" + "".join(f"{item.pdq}\n" for item in items)
    with ChecksumTextReader("pdq", bare_64=HashAlgorithm.PDQ).read(
        write_text(tmp_path / "pdq.txt", text)
    ) as parsed:
        assert isinstance(parsed.entries, ColumnarEntries)
        (batch,) = list(parsed.entries.batches())
    assert set(batch.columns) == {"entry_id", "pdq"}
    assert list(batch.entries()) == [
        HashEntry(entry_id=f"pdq:{item.pdq}", digests={HashAlgorithm.PDQ: item.pdq})
        for item in items
    ]
    assert (parsed.report.records, parsed.report.entries, parsed.report.last_record) == (4, 4, 5)


@pytest.mark.parametrize("odd", ["upper", "named", "bad"])
def test_a_batch_with_other_lines_is_read_line_by_line(tmp_path: Path, odd: str) -> None:
    items = [stand_in(seed) for seed in range(4)]
    lines = [item.md5 for item in items]
    lines[2] = {
        "upper": items[2].md5.upper(),
        "named": f"{items[2].md5}  file two.jpg",
        "bad": "not-a-digest",
    }[odd]
    path = write_text(tmp_path / "mixed.md5", "\n".join(lines) + "\n")
    if odd == "bad":
        with pytest.raises(ListFormatError) as caught, ChecksumTextReader().read(path) as parsed:
            list(parsed.entries)
        assert caught.value.record == 3
        return
    with ChecksumTextReader().read(path) as parsed:
        entries = list(parsed.entries)
    assert [e.digests[HashAlgorithm.MD5] for e in entries] == [item.md5 for item in items]
    assert [e.entry_id for e in entries] == [f"md5:{item.md5}" for item in items]
    assert entries[2].file_name == ("file two.jpg" if odd == "named" else None)
