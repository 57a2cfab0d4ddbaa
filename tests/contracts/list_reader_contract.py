"""Reusable behaviour suite for every `ListReader`; subclass and provide the fixtures.

A subclass provides `reader` (the reader under test), `example` (a path to a well-formed file
in the reader's format, written by the test) and `expected_count` (entries in the example).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm, normalise_digest
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats import ListReader, ParsedList, detect_reader
from safeguard.list_formats.contract import read_head


class ListReaderContract:
    """Behaviour every list reader shares."""

    def test_detects_its_own_example(self, reader: ListReader, example: Path) -> None:
        assert reader.detect(read_head(example), example)

    def test_registry_detects_by_content_not_name(
        self, reader: ListReader, example: Path, tmp_path: Path
    ) -> None:
        renamed = tmp_path / "misleading-name.txt.bin"
        shutil.copyfile(example, renamed)
        assert detect_reader(renamed).name == reader.name

    def test_reads_every_entry_with_canonical_digests(
        self, reader: ListReader, example: Path, expected_count: int
    ) -> None:
        with reader.read(example) as parsed:
            assert isinstance(parsed, ParsedList)
            assert parsed.metadata.format_name == reader.name
            entries = list(parsed.entries)
        assert len(entries) == expected_count
        assert parsed.report.entries == expected_count
        for entry in entries:
            assert isinstance(entry, HashEntry)
            assert entry.digests
            for algorithm, value in entry.digests.items():
                if algorithm is not HashAlgorithm.PHOTODNA:
                    assert value == normalise_digest(algorithm, value)
        assert len({entry.entry_id for entry in entries}) == len(entries)

    def test_entry_ids_are_stable_across_reads(self, reader: ListReader, example: Path) -> None:
        with reader.read(example) as first, reader.read(example) as second:
            assert [e.entry_id for e in first.entries] == [e.entry_id for e in second.entries]

    def test_stopping_early_and_closing_is_clean(self, reader: ListReader, example: Path) -> None:
        parsed = reader.read(example)
        next(parsed.entries)
        parsed.close()
        with pytest.raises(StopIteration):
            next(parsed.entries)

    def test_rejects_an_unrelated_file(self, reader: ListReader, tmp_path: Path) -> None:
        other = tmp_path / "notes.txt"
        other.write_text("Shopping list\neggs, milk\n", encoding="utf-8")
        assert not reader.detect(read_head(other), other)
