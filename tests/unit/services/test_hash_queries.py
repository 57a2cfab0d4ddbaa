from __future__ import annotations

from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import UnreadableFileError
from safeguard.services import hash_queries
from safeguard.services.hash_queries import QueryFileSummary, read_hash_queries
from tests.contracts.hash_list_store_contract import digest_of

MD5 = digest_of("md5", 1)
SHA1 = digest_of("sha1", 1)
SHA256 = digest_of("sha256", 1)


def write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "hashes.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_plain_lines_guess_by_length(tmp_path: Path) -> None:
    path = write(
        tmp_path, f"{MD5.upper()}\n\n# comment\n{SHA1} file name.jpg\n{SHA256}\nxyz\n", bom=True
    )
    first, second, third, bad = read_hash_queries(path)
    assert first.digests == {HashAlgorithm.MD5: MD5}
    assert first.line == 1
    assert second.digests == {HashAlgorithm.SHA1: SHA1}
    assert second.line == 4
    assert set(third.digests) == {HashAlgorithm.SHA256, HashAlgorithm.PDQ}
    assert bad.error is not None
    assert "xyz" not in bad.error
    assert bad.as_record() == {"line": 6, "error": bad.error}


def test_forced_algorithm(tmp_path: Path) -> None:
    (query,) = read_hash_queries(write(tmp_path, SHA256), HashAlgorithm.PDQ)
    assert query.digests == {HashAlgorithm.PDQ: SHA256}
    assert query.as_record() == {"line": 1, "pdq": SHA256, "pdq_quality": None, "error": None}


def test_csv_with_header(tmp_path: Path) -> None:
    text = f'Name,"SHA-1",MD5,PDQ,Quality\n"a, b.jpg",{SHA1},{MD5},{SHA256},77\nc.jpg,,,,\nd,,zz,,\ne,,,{SHA256},high\n'
    good, empty, bad, quality = read_hash_queries(write(tmp_path, text))
    assert good.digests == {
        HashAlgorithm.SHA1: SHA1,
        HashAlgorithm.MD5: MD5,
        HashAlgorithm.PDQ: SHA256,
    }
    assert good.pdq_quality == 77
    assert good.line == 2
    assert empty.error == "no digest in the row"
    assert bad.error is not None
    assert quality.error == "pdq_quality is not a whole number"


def test_tab_separated_hash_column(tmp_path: Path) -> None:
    (query,) = read_hash_queries(write(tmp_path, f"id\thash\n7\t{MD5}\n"))
    assert query.digests == {HashAlgorithm.MD5: MD5}


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError):
        read_hash_queries(tmp_path / "missing.txt")


def test_empty_file(tmp_path: Path) -> None:
    assert list(read_hash_queries(write(tmp_path, "\n# nothing\n"))) == []


def _read_both(
    path: Path, forced: HashAlgorithm | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[list[object], object], tuple[list[object], object]]:
    """The queries and summary through the bare-value fast path and through the reader."""
    results = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(hash_queries, "_only_bare_digests", lambda path: False)
            summary = QueryFileSummary()
            queries: list[object] = list(read_hash_queries(path, forced, summary))
            # repr: the problems kept in a report are exceptions, equal only to themselves
            results.append((queries, (summary.format_name, repr(summary.report))))
    return results[0], results[1]


@pytest.mark.parametrize("forced", [None, HashAlgorithm.PDQ, HashAlgorithm.MD5])
@pytest.mark.parametrize(
    ("text", "bom"),
    [
        (f"{MD5.upper()}\n\n# comment\n   \n{SHA1}\r\n{SHA256.upper()}\n{SHA256}", True),
        (f"{SHA256}\n{SHA256}\n# {MD5}\n{MD5}\r{SHA1}\n", False),
        ("", False),
    ],
)
def test_bare_value_files_read_as_the_checksum_reader_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, bom: bool, forced
) -> None:
    path = write(tmp_path, text, bom=bom)
    assert hash_queries._only_bare_digests(path)
    fast, reader = _read_both(path, forced, monkeypatch)
    assert fast == reader


@pytest.mark.parametrize(
    "text",
    [
        f"{SHA256}\n{MD5}  name.jpg\n",  # a name
        f"{SHA256}\n {MD5}\n",  # a space before
        f"{SHA256}\n{MD5}\t\n",  # a tab after (the reader reads a name)
        f"{SHA256}\n{MD5[:-1]}\n",  # 31 digits
        f"{SHA256}\0{MD5}\0",  # NUL-ended records
        f"MD5 (a.jpg) = {MD5}\n",  # BSD tag
    ],
)
def test_other_lines_go_through_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = write(tmp_path, text)
    assert not hash_queries._only_bare_digests(path)
    fast, reader = _read_both(path, None, monkeypatch)
    assert fast == reader


def test_csv_queries_name_their_own_lines(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"id,pdq\ne1,{SHA256}\ne2,{SHA256}\n", encoding="utf-8")
    assert [query.line for query in read_hash_queries(path)] == [2, 3]


def test_csv_errors_and_queries_come_in_file_order(tmp_path: Path) -> None:
    # A batch with a bad row is parsed row by row: the error still sits between its
    # neighbours, each with its own line.
    path = tmp_path / "list.csv"
    path.write_text(f"id,pdq\ne1,{SHA256}\ne2,nothex\ne3,{SHA256}\n", encoding="utf-8")
    queries = list(read_hash_queries(path))
    assert [(q.line, q.error is None) for q in queries] == [(2, True), (3, False), (4, True)]
