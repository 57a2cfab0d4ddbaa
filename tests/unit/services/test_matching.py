from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from safeguard.domain.digests import HashAlgorithm, hamming_distance
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind, Provenance
from safeguard.domain.matches import Verdict, verdict_of
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_file
from safeguard.matching.contract import PerceptualIndex
from safeguard.matching.pdq_index import PdqIndex
from safeguard.services.demo.pictures import synthetic_photo, write_photo
from safeguard.services.match_records import match_as_record
from safeguard.services.matching import MatchService
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from tests.contracts.hash_list_store_contract import digest_of, make_entry
from tests.unit.services.tiny_rds import write_tiny_rds


def random_pdq(seed: int) -> str:
    return f"{random.Random(seed).getrandbits(256):064x}"


def flip_bits(hex_code: str, count: int, seed: int = 0) -> str:
    value = int(hex_code, 16)
    for bit in random.Random(seed).sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def pdq_entry(entry_id: str, pdq: str) -> HashEntry:
    return HashEntry(entry_id, {HashAlgorithm.PDQ: pdq}, provenance=Provenance(series="s"))


def query(pdq: str | None = None, quality: int = 100, **digests: str) -> FileHashes:
    return FileHashes(
        "stand-in.jpg",
        10,
        digests={HashAlgorithm(k): v for k, v in digests.items()},
        pdq=pdq,
        pdq_quality=quality if pdq else None,
    )


class CountingBuilder:
    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> PerceptualIndex:
        self.builds += 1
        return PdqIndex.build(ids, codes)


@pytest.fixture
def store() -> MemoryHashListStore:
    return MemoryHashListStore()


@pytest.fixture
def builder() -> CountingBuilder:
    return CountingBuilder()


@pytest.fixture
def service(store: MemoryHashListStore, builder: CountingBuilder) -> MatchService:
    return MatchService(store, build_index=builder)


def test_exact_match_reports_every_field(store: MemoryHashListStore, service: MatchService) -> None:
    store.import_list(HashList("bad", ListKind.KNOWN_BAD, version="v7"), [make_entry(1)])
    (match,) = service.match_file_hashes(query(md5=digest_of("md5", 1).upper()))
    assert (match.list_name, match.entry_id, match.algorithm) == ("bad", "e1", HashAlgorithm.MD5)
    assert (match.distance, match.threshold, match.query_quality) == (0, 0, None)
    assert match.list_version == "v7"
    assert match.category.code == "1"
    assert match.provenance.source_record_id == "rec-1"
    record = match_as_record(match)
    assert {
        "list",
        "entry_id",
        "algorithm",
        "distance",
        "query_quality",
        "category",
        "provenance",
    } <= set(record)
    assert record["list"] == "bad"
    assert record["algorithm"] == "md5"


def test_pdq_within_threshold_and_per_list_threshold(
    store: MemoryHashListStore, service: MatchService
) -> None:
    listed = random_pdq(1)
    store.import_list(HashList("default", ListKind.KNOWN_BAD), [pdq_entry("d", listed)])
    store.import_list(
        HashList("strict", ListKind.KNOWN_BAD, pdq_threshold=5), [pdq_entry("s", listed)]
    )
    near = flip_bits(listed, 20)
    matches = service.match_file_hashes(query(pdq=near, quality=90))
    assert [(m.list_name, m.distance, m.threshold) for m in matches] == [("default", 20, 31)]
    assert matches[0].query_quality == 90
    assert matches[0].variant == "original"
    assert service.match_file_hashes(query(pdq=flip_bits(listed, 32))) == []
    both = service.match_file_hashes(query(pdq=flip_bits(listed, 3)))
    assert {m.list_name for m in both} == {"default", "strict"}
    store.update_list("default", pdq_threshold=40)
    assert len(service.match_file_hashes(query(pdq=flip_bits(listed, 35)))) == 1


def test_low_quality_pdq_is_not_matched(store: MemoryHashListStore, service: MatchService) -> None:
    listed = random_pdq(2)
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [pdq_entry("p", listed)])
    assert service.match_file_hashes(query(pdq=listed, quality=10)) == []
    assert service.match_digests({HashAlgorithm.PDQ: listed}, pdq_quality=10) == []
    (hit,) = service.match_digests({HashAlgorithm.PDQ: listed.upper()})
    assert hit.distance == 0
    assert hit.query_quality is None


def test_known_good_never_overrides_known_bad(
    store: MemoryHashListStore, service: MatchService
) -> None:
    store.import_list(HashList("good", ListKind.KNOWN_GOOD), [make_entry(1, entry_id="g")])
    fh = query(sha1=digest_of("sha1", 1))
    assert verdict_of(service.match_file_hashes(fh)) is Verdict.KNOWN_GOOD
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [make_entry(1, entry_id="b")])
    matches = service.match_file_hashes(fh)
    assert [m.list_name for m in matches] == ["bad", "good"]  # known-bad first
    assert verdict_of(matches) is Verdict.KNOWN_BAD


def test_disabled_list_is_ignored(store: MemoryHashListStore, service: MatchService) -> None:
    pdq = random_pdq(3)
    entry = HashEntry("x", {HashAlgorithm.MD5: digest_of("md5", 9), HashAlgorithm.PDQ: pdq})
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [entry])
    fh = query(pdq=pdq, md5=digest_of("md5", 9))
    assert len(service.match_file_hashes(fh)) == 2
    store.update_list("bad", enabled=False)
    assert service.match_file_hashes(fh) == []
    store.update_list("bad", enabled=True)
    assert len(service.match_file_hashes(fh)) == 2


def test_changes_reach_the_index_incrementally(
    store: MemoryHashListStore, service: MatchService, builder: CountingBuilder
) -> None:
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [pdq_entry("a", random_pdq(10))])
    assert service.match_file_hashes(query(pdq=random_pdq(11))) == []
    store.add_entries("bad", [pdq_entry("b", random_pdq(11))])
    (hit,) = service.match_file_hashes(query(pdq=random_pdq(11)))
    assert hit.entry_id == "b"
    store.remove_entries("bad", ["b"])
    assert service.match_file_hashes(query(pdq=random_pdq(11))) == []
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [pdq_entry("c", random_pdq(12))])
    assert [m.entry_id for m in service.match_file_hashes(query(pdq=random_pdq(12)))] == ["c"]
    assert service.match_file_hashes(query(pdq=random_pdq(10))) == []
    store.remove_list("bad")
    assert service.match_file_hashes(query(pdq=random_pdq(12))) == []
    assert builder.builds == 1
    revision = service.refresh()
    assert revision == store.current_revision() == service.refresh()


def test_saved_index_is_loaded_and_caught_up(
    store: MemoryHashListStore, builder: CountingBuilder, tmp_path: Path
) -> None:
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [pdq_entry("a", random_pdq(20))])
    first = MatchService(store, index_dir=tmp_path / "index", build_index=builder)
    assert len(first.match_file_hashes(query(pdq=random_pdq(20)))) == 1
    assert list((tmp_path / "index").glob("pdq-*.json"))
    store.add_entries("bad", [pdq_entry("b", random_pdq(21))])
    store.remove_entries("bad", ["a"])
    second = MatchService(store, index_dir=tmp_path / "index", build_index=builder)
    assert [m.entry_id for m in second.match_file_hashes(query(pdq=random_pdq(21)))] == ["b"]
    assert second.match_file_hashes(query(pdq=random_pdq(20))) == []
    assert builder.builds == 1  # the second service loaded the save and applied the delta
    saves = [p for p in (tmp_path / "index").iterdir() if p.is_dir()]
    # One PDQ save and one exact-digest save; older folders are removed.
    assert sorted(p.name.split("-")[0] for p in saves) == ["exact", "pdq"]


def test_damaged_save_is_rebuilt(
    store: MemoryHashListStore, builder: CountingBuilder, tmp_path: Path
) -> None:
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [pdq_entry("a", random_pdq(30))])
    MatchService(store, index_dir=tmp_path, build_index=builder).refresh()
    (pointer,) = tmp_path.glob("pdq-*.json")
    pointer.write_text("{not json", encoding="utf-8")
    again = MatchService(store, index_dir=tmp_path, build_index=builder)
    assert len(again.match_file_hashes(query(pdq=random_pdq(30)))) == 1
    assert builder.builds == 2


def test_rotated_image_matches_through_a_dihedral_variant(
    store: MemoryHashListStore, service: MatchService, tmp_path: Path
) -> None:
    options = HashOptions(dihedral=True)
    original = hash_file(write_photo(tmp_path / "listed.jpg", seed=5), options)
    assert original.pdq is not None
    assert original.pdq_fit_for_matching
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [pdq_entry("p", original.pdq)])
    rotated_path = tmp_path / "rotated.png"
    synthetic_photo(5).rotate(90, expand=True).save(rotated_path)
    rotated = hash_file(rotated_path, options)
    assert rotated.pdq is not None
    assert len(rotated.pdq_variants) == 7
    assert hamming_distance(rotated.pdq, original.pdq) > 31
    (hit,) = service.match_file_hashes(rotated)
    assert hit.variant != "original"
    assert hit.distance <= 31
    assert hit.query_quality == rotated.pdq_quality


def test_nsrl_reference_list_is_queried_in_place(
    store: MemoryHashListStore, service: MatchService, tmp_path: Path
) -> None:
    rds = write_tiny_rds(
        tmp_path / "rds.db",
        [(digest_of("sha256", 4), digest_of("sha1", 4), digest_of("md5", 4), "tool.exe")],
    )
    store.register_reference_list(HashList("nsrl", ListKind.KNOWN_GOOD), str(rds))
    matches = service.match_file_hashes(
        query(md5=digest_of("md5", 4), sha256=digest_of("sha256", 4))
    )
    assert {(m.list_name, m.algorithm) for m in matches} == {
        ("nsrl", HashAlgorithm.MD5),
        ("nsrl", HashAlgorithm.SHA256),
    }
    assert verdict_of(matches) is Verdict.KNOWN_GOOD
    store.update_list("nsrl", enabled=False)
    assert service.match_file_hashes(query(md5=digest_of("md5", 4))) == []


def test_missing_reference_file_is_skipped(
    store: MemoryHashListStore, service: MatchService, tmp_path: Path
) -> None:
    store.register_reference_list(HashList("nsrl", ListKind.KNOWN_GOOD), str(tmp_path / "gone.db"))
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [make_entry(1)])
    (hit,) = service.match_file_hashes(query(md5=digest_of("md5", 1)))
    assert hit.list_name == "bad"


def test_reference_opener_is_injectable(store: MemoryHashListStore) -> None:
    calls: list[str] = []

    class Fake:
        def lookup(self, algorithm: HashAlgorithm, values: list[str]) -> dict[str, HashEntry]:
            return {v: HashEntry("n1", {algorithm: v}) for v in values}

    def opener(location: str) -> Fake:
        calls.append(location)
        return Fake()

    opener_typed: Callable[[str], Fake] = opener
    service = MatchService(store, open_reference=opener_typed)
    store.register_reference_list(HashList("ref", ListKind.IGNORABLE), "/nowhere")
    service.match_digests({HashAlgorithm.SHA1: digest_of("sha1", 1)})
    (hit,) = service.match_digests({HashAlgorithm.SHA1: digest_of("sha1", 2)})
    assert hit.list_kind is ListKind.IGNORABLE
    assert calls == ["/nowhere"]


def test_empty_store_matches_nothing(service: MatchService) -> None:
    assert service.match_file_hashes(query(pdq=random_pdq(1), md5=digest_of("md5", 1))) == []
    assert service.revision == 0


def test_small_changes_are_replayed_not_saved(
    store: MemoryHashListStore, builder: CountingBuilder, tmp_path: Path
) -> None:
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), [pdq_entry("a", random_pdq(40))])
    service = MatchService(store, index_dir=tmp_path, build_index=builder, save_after_changes=2)
    service.refresh()
    (pointer,) = tmp_path.glob("pdq-*.json")
    saved = json.loads(pointer.read_text(encoding="utf-8"))["revision"]
    store.add_entries("bad", [pdq_entry("b", random_pdq(41))])
    service.refresh()
    assert json.loads(pointer.read_text(encoding="utf-8"))["revision"] == saved
    store.add_entries("bad", [pdq_entry("c", random_pdq(42))])
    assert service.refresh() == json.loads(pointer.read_text(encoding="utf-8"))["revision"]
    assert builder.builds == 1


def test_match_many_equals_one_by_one(store: MemoryHashListStore, service: MatchService) -> None:
    store.import_list(
        HashList("bad", ListKind.KNOWN_BAD), [make_entry(1), pdq_entry("p", random_pdq(50))]
    )
    store.import_list(HashList("good", ListKind.KNOWN_GOOD), [make_entry(1, entry_id="g")])
    queries = [
        query(md5=digest_of("md5", 1), sha1=digest_of("sha1", 1)),
        query(pdq=flip_bits(random_pdq(50), 4)),
        query(md5=digest_of("md5", 2)),
        FileHashes("broken.jpg", None, error="EmptyFileError"),
        query(md5=digest_of("md5", 1).upper()),
    ]
    batch = service.match_many(queries)
    assert batch == [service.match_file_hashes(q) for q in queries]
    assert [len(m) for m in batch] == [4, 1, 0, 0, 2]


def test_save_zeroed_by_a_crash_is_detected_and_rebuilt(
    store: MemoryHashListStore, builder: CountingBuilder, tmp_path: Path
) -> None:
    planted = [pdq_entry(f"p{i}", random_pdq(40 + i)) for i in range(20)]
    store.import_list(HashList("bad", ListKind.KNOWN_BAD), planted)
    MatchService(store, index_dir=tmp_path, build_index=builder).refresh()
    # What a crash can leave: the arrays' data at full size, all zeros (headers intact,
    # so the files still load).
    (save,) = (p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("pdq-"))
    for path in save.rglob("*.npy"):
        with path.open("r+b") as handle:
            np.lib.format.read_magic(handle)
            np.lib.format.read_array_header_1_0(handle)
            start = handle.tell()
            handle.write(b"\0" * (path.stat().st_size - start))
    again = MatchService(store, index_dir=tmp_path, build_index=builder)
    for i in range(20):
        assert [m.entry_id for m in again.match_file_hashes(query(pdq=random_pdq(40 + i)))] == [
            f"p{i}"
        ]
    assert again.match_file_hashes(query(pdq="0" * 64)) == []
    assert builder.builds == 2
