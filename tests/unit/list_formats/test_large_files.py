"""Constant-memory reading of a national-size VICS file (scaled down to 200k records)."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest

from safeguard.list_formats.vics import VicsReader
from tests.unit.list_formats.samples import VICS2_MEDIA_CONTEXT

RECORDS = 200_000
PEAK_LIMIT = 4 * 1024 * 1024
"""Bytes of Python memory the read may hold at its peak; the file is about ten times larger."""


def write_national_file(path: Path, count: int) -> None:
    """A VICS 2.0 hash set of `count` stand-in records, written without building objects."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write('\ufeff{"@odata.context": "' + VICS2_MEDIA_CONTEXT + '",\n"value": [\n')
        for number in range(count):
            seed = f"stand-in {number}".encode()
            if number:
                handle.write(",\n")
            handle.write(
                f'{{"MediaID": {number + 1}, "Category": {number % 5}, '
                f'"MD5": "{hashlib.md5(seed).hexdigest().upper()}", '
                f'"SHA1": "{hashlib.sha1(seed).hexdigest().upper()}", '
                f'"MediaSize": {1000 + number}, "VictimIdentified": "false", '
                '"IsDistributed": "true", "DateUpdated": "2023-06-07T02:31:49.8300Z"}'
            )
        handle.write("\n]}\n")


@pytest.mark.slow
def test_vics_reader_memory_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "national.json"
    write_national_file(path, RECORDS)
    file_size = path.stat().st_size
    assert file_size > 8 * PEAK_LIMIT

    tracemalloc.start()
    try:
        count = 0
        last_id = ""
        with VicsReader().read(path) as parsed:
            for entry in parsed.entries:
                count += 1
                last_id = entry.provenance.source_record_id or ""
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == RECORDS
    assert last_id == str(RECORDS)
    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB while reading {file_size / 1e6:.0f} MB"
