from __future__ import annotations

from pathlib import Path

import pytest

from safeguard.domain.errors import ConfigurationError, ListFormatError, NotFoundError
from safeguard.domain.hash_lists import ListKind
from safeguard.services.hash_lists import import_watch
from safeguard.services.hash_lists.management import ListService
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.contracts.hash_list_store_contract import digest_of
from tests.unit.services.tiny_rds import write_tiny_rds


def write_csv(path: Path, count: int, *, broken_at: int | None = None) -> Path:
    rows = ["id,md5,pdq"]
    for seed in range(count):
        md5 = "zz" if seed == broken_at else digest_of("md5", seed)
        rows.append(f"i{seed},{md5},{digest_of('pdq', seed)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def store() -> MemoryHashListStore:
    return MemoryHashListStore()


@pytest.fixture
def service(store: MemoryHashListStore) -> ListService:
    return ListService(store, default_threshold=31)


def test_import_defaults_and_progress(
    service: ListService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_watch, "PROGRESS_EVERY", 2)
    seen: list[int] = []
    outcome = service.import_file(write_csv(tmp_path / "my-list.csv", 5), on_progress=seen.append)
    assert outcome.hash_list.name == "my-list"
    assert outcome.hash_list.kind is ListKind.KNOWN_BAD  # nothing said: the safe default
    assert outcome.format_name == "delimited"
    assert outcome.hash_list.entry_count == 5
    assert seen == [2, 4, 5]
    assert service.threshold_of(outcome.hash_list) == 31


def test_strict_import_is_atomic_and_lenient_skips(service: ListService, tmp_path: Path) -> None:
    service.import_file(write_csv(tmp_path / "a.csv", 3), name="l", version="1")
    with pytest.raises(ListFormatError):
        service.import_file(write_csv(tmp_path / "b.csv", 6, broken_at=4), name="l", version="2")
    assert service.get("l").version == "1"
    assert service.get("l").entry_count == 3
    outcome = service.import_file(
        write_csv(tmp_path / "b.csv", 6, broken_at=4), name="l", version="2", lenient=True
    )
    assert outcome.report.skipped == 1
    assert outcome.hash_list.entry_count == 5


def test_settings_export_and_remove(service: ListService, tmp_path: Path) -> None:
    service.import_file(
        write_csv(tmp_path / "a.csv", 2), name="l", kind=ListKind.IGNORABLE, threshold=10
    )
    assert service.set_enabled("l", False).enabled is False
    assert service.set_threshold("l", 20).pdq_threshold == 20
    assert service.set_action("l", "report").action == "report"
    with pytest.raises(ConfigurationError):
        service.set_threshold("l", 257)
    with pytest.raises(ConfigurationError):
        service.import_file(write_csv(tmp_path / "a.csv", 2), threshold=-1)
    out = tmp_path / "out.csv"
    assert service.export("l", out, "csv") == 2
    assert out.read_text(encoding="utf-8").count("\n") == 3
    with pytest.raises(ConfigurationError):
        service.export("l", out, "xml")
    service.remove("l")
    with pytest.raises(NotFoundError):
        service.get("l")


def test_nsrl_is_registered_not_copied(
    service: ListService, store: MemoryHashListStore, tmp_path: Path
) -> None:
    rds = write_tiny_rds(tmp_path / "RDS.db", [("a" * 64, "b" * 40, "c" * 32, "tool.exe")])
    outcome = service.import_file(rds)
    assert outcome.in_place
    assert outcome.hash_list.kind is ListKind.KNOWN_GOOD
    assert outcome.hash_list.source == "NIST NSRL"
    assert outcome.hash_list.name == "nsrl-modern"
    assert service.locations() == {"nsrl-modern": str(rds.resolve())}
    assert list(store.iter_entries("nsrl-modern")) == []
