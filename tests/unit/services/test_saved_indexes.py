"""Saved indexes move only forward, and a save never deletes a newer folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeguard.services import saved_indexes
from safeguard.services.saved_indexes import SavedIndexes


class FakeIndex:
    def __init__(self, label: str) -> None:
        self.label = label

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        (directory / "label.txt").write_text(self.label)


def load(directory: Path) -> FakeIndex:
    return FakeIndex((directory / "label.txt").read_text())


def saves(folder: Path) -> SavedIndexes[FakeIndex]:
    return SavedIndexes(folder, "db1", load, kind="test")


def test_an_older_save_from_another_process_does_not_move_the_pointer_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(saved_indexes.os, "getpid", lambda: 111)
    assert saves(tmp_path).save(FakeIndex("newer"), 7)
    monkeypatch.setattr(saved_indexes.os, "getpid", lambda: 222)
    assert saves(tmp_path).save(FakeIndex("older"), 5)

    loaded = saves(tmp_path).load()
    assert loaded is not None
    assert (loaded[0].label, loaded[1]) == ("newer", 7)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["test-db1-r7-111"]


def test_a_newer_save_removes_older_folders(tmp_path: Path) -> None:
    assert saves(tmp_path).save(FakeIndex("a"), 1)
    assert saves(tmp_path).save(FakeIndex("b"), 2)
    loaded = saves(tmp_path).load()
    assert loaded is not None
    assert loaded[0].label == "b"
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1
