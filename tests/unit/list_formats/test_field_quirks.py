"""Quirks of real writers, one class each: timestamps, bare 64-digit values, NUL records."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.list_formats import detect_reader, reader_named
from safeguard.list_formats.checksum_text import looks_like_pdq
from safeguard.list_formats.record_parsing import read_date


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2019-03-04T10:11:12.123+01:00Z", date(2019, 3, 4)),  # offset then Z (UK writer)
        ("2019-03-04T00:30:00+01:00Z", date(2019, 3, 3)),
        ("2019-03-04T10:11:12.1234567Z", date(2019, 3, 4)),  # .NET 7-digit fraction
        ("2019-03-04T10:11:12.123z", date(2019, 3, 4)),
        ("2019-03-04 10:11:12 UTC", date(2019, 3, 4)),
        ("2019-03-04T10:11:12+0100", date(2019, 3, 4)),
        ("/Date(1551694272000)/", date(2019, 3, 4)),
        ("/Date(1551694272000+0100)/", date(2019, 3, 4)),
        ("1551694272", date(2019, 3, 4)),
        ("1551694272000", date(2019, 3, 4)),
        ("25/12/2019 10:00:00", date(2019, 12, 25)),
        ("2019-03-04", date(2019, 3, 4)),
    ],
)
def test_timestamp_forms_real_writers_produce(text: str, day: date) -> None:
    assert read_date(text) == (day, None)


@pytest.mark.parametrize("text", ["05/06/2020", "last Tuesday", "2019-13-45"])
def test_unreadable_timestamps_come_back_as_text(text: str) -> None:
    assert read_date(text) == (None, text)


def pdq_like(seed: int) -> str:
    """A 256-bit value with exactly 128 bits set, as every PDQ of a real picture has."""
    bits = sorted(range(256), key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).digest())
    return f"{sum(1 << i for i in bits[:128]):064x}"


def test_bare_64_digit_values_are_told_apart(tmp_path: Path) -> None:
    pdq = tmp_path / "signals.txt"
    pdq.write_text("".join(pdq_like(s) + "\n" for s in range(6)), encoding="utf-8")
    sha = tmp_path / "values.txt"
    sha.write_text(
        "".join(hashlib.sha256(str(s).encode()).hexdigest() + "\n" for s in range(6)),
        encoding="utf-8",
    )
    assert all(looks_like_pdq(pdq_like(s)) for s in range(6))
    for path, algorithm in ((pdq, HashAlgorithm.PDQ), (sha, HashAlgorithm.SHA256)):
        with detect_reader(path).read(path) as parsed:
            assert {a for e in parsed.entries for a in e.digests} == {algorithm}

    short = tmp_path / "two.txt"
    short.write_text(pdq_like(1) + "\n" + pdq_like(2) + "\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match="--format pdq or --format sha256sum"):
        detect_reader(short).read(short)
    with reader_named("pdq").read(short) as parsed:
        assert [set(e.digests) for e in parsed.entries] == [{HashAlgorithm.PDQ}] * 2
    with reader_named("sha256sum").read(short) as parsed:
        assert [set(e.digests) for e in parsed.entries] == [{HashAlgorithm.SHA256}] * 2


def test_nul_terminated_records_keep_newlines_in_names(tmp_path: Path) -> None:
    md5 = hashlib.md5(b"x").hexdigest()
    path = tmp_path / "sums"
    path.write_bytes(f"{md5}  new\nline.jpg\0{md5}  plain.jpg\0".encode())
    with detect_reader(path).read(path) as parsed:
        names = [e.file_name for e in parsed.entries]
    assert names == ["new\nline.jpg", "plain.jpg"]
