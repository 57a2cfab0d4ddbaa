"""Reusable behaviour suite for every `HashListStore`; subclass and provide a `store` fixture."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import InvalidDigestError, NotFoundError, StorageError
from safeguard.domain.hash_lists import (
    PROJECT_VIC,
    UNCATEGORISED,
    HashEntry,
    HashList,
    ListKind,
    Provenance,
    category_for,
)
from safeguard.storage.hash_list_store import HashListStore


def digest_of(algorithm: str, seed: object) -> str:
    """A deterministic stand-in digest (hashes of a label, never of real content)."""
    text = f"{algorithm}:{seed}".encode()
    if algorithm == "md5":
        return hashlib.md5(text).hexdigest()
    if algorithm == "sha1":
        return hashlib.sha1(text).hexdigest()
    return hashlib.sha256(text).hexdigest()


def make_entry(seed: int, *, pdq: bool = True, entry_id: str | None = None) -> HashEntry:
    digests = {
        HashAlgorithm.MD5: digest_of("md5", seed),
        HashAlgorithm.SHA1: digest_of("sha1", seed),
        HashAlgorithm.SHA256: digest_of("sha256", seed),
    }
    if pdq:
        digests[HashAlgorithm.PDQ] = digest_of("pdq", seed)
    return HashEntry(
        entry_id=entry_id or f"e{seed}",
        digests=digests,
        category=category_for(PROJECT_VIC, "1") if seed % 2 else UNCATEGORISED,
        provenance=Provenance(source_record_id=f"rec-{seed}", series="s1"),
    )


def bad_list(name: str = "bad", **kwargs: object) -> HashList:
    return HashList(name=name, kind=ListKind.KNOWN_BAD, source="test", version="1", **kwargs)  # type: ignore[arg-type]


def failing(entries: list[HashEntry], after: int) -> Iterator[HashEntry]:
    for index, entry in enumerate(entries):
        if index == after:
            raise ValueError("reader failed half-way")
        yield entry


class HashListStoreContract:
    """Behaviour every hash-list store must show."""

    @pytest.fixture
    def store(self) -> HashListStore:
        raise NotImplementedError

    def test_import_round_trips_every_field(self, store: HashListStore) -> None:
        entry = HashEntry(
            entry_id="vic-77",
            digests={
                HashAlgorithm.MD5: digest_of("md5", 1).upper(),
                HashAlgorithm.SHA1: digest_of("sha1", 1),
                HashAlgorithm.PDQ: digest_of("pdq", 1),
                HashAlgorithm.PHOTODNA: "1,2,3,4",
            },
            category=category_for(PROJECT_VIC, "2"),
            provenance=Provenance(
                source_record_id="r1",
                series="series-a",
                victim_identified=True,
                first_seen=date(2020, 1, 2),
                last_seen=date(2024, 5, 6),
                notes="stand-in",
            ),
            file_name="a.jpg",
            size=1234,
        )
        stored = store.import_list(bad_list(pdq_threshold=20, action="block"), [entry])
        assert stored.entry_count == 1
        assert stored.imported_at is not None
        assert stored.imported_at.tzinfo is not None
        assert stored.pdq_threshold == 20
        assert stored.action == "block"
        (back,) = list(store.iter_entries("bad"))
        assert back.digests[HashAlgorithm.MD5] == digest_of("md5", 1)  # normalised
        assert back.digests[HashAlgorithm.PHOTODNA] == "1,2,3,4"
        assert back.category == entry.category
        assert back.provenance == entry.provenance
        assert (back.file_name, back.size, back.entry_id) == ("a.jpg", 1234, "vic-77")
        assert store.get_list("bad") == stored
        assert store.all_lists() == [stored]

    def test_entries_are_fetched_by_id_in_stored_order(self, store: HashListStore) -> None:
        entries = [
            HashEntry(entry_id=f"e{n}", digests={HashAlgorithm.MD5: digest_of("md5", n)})
            for n in range(5)
        ]
        store.import_list(bad_list(), entries)
        store.import_list(bad_list(name="other"), entries[:2])
        found = store.entries_with_ids("bad", ["e3", "e1", "nope", "e3"])
        assert [e.entry_id for e in found] == ["e1", "e3"]
        assert found[1] == next(e for e in store.iter_entries("bad") if e.entry_id == "e3")
        assert store.entries_with_ids("bad", []) == []

    def test_failed_new_import_leaves_nothing(self, store: HashListStore) -> None:
        revision = store.current_revision()
        entries = [make_entry(i) for i in range(10)]
        with pytest.raises(ValueError, match="half-way"):
            store.import_list(bad_list(), failing(entries, 5))
        with pytest.raises(NotFoundError):
            store.get_list("bad")
        assert store.all_lists() == []
        assert store.current_revision() == revision

    def test_failed_reimport_keeps_the_old_list(self, store: HashListStore) -> None:
        old = store.import_list(bad_list(), [make_entry(i) for i in range(3)])
        revision = store.current_revision()
        newer = HashList("bad", ListKind.KNOWN_BAD, version="2")
        with pytest.raises(ValueError, match="half-way"):
            store.import_list(newer, failing([make_entry(i) for i in range(10, 20)], 7))
        assert store.get_list("bad") == old
        assert [e.entry_id for e in store.iter_entries("bad")] == ["e0", "e1", "e2"]
        assert store.current_revision() == revision
        assert store.pdq_rows_since(revision).is_empty

    def test_invalid_digest_fails_the_import_atomically(self, store: HashListStore) -> None:
        broken = HashEntry("x", {HashAlgorithm.MD5: "not-hex"})
        with pytest.raises(InvalidDigestError):
            store.import_list(bad_list(), [make_entry(1), broken])
        assert store.all_lists() == []

    def test_reimport_replaces_without_duplicates_and_keeps_settings(
        self, store: HashListStore
    ) -> None:
        store.import_list(bad_list(pdq_threshold=12, action="report"), [make_entry(1)])
        store.update_list("bad", enabled=False)
        again = store.import_list(
            HashList("bad", ListKind.KNOWN_BAD, source="test", version="2"),
            [make_entry(1), make_entry(2)],
        )
        assert again.entry_count == 2
        assert again.version == "2"
        assert (again.pdq_threshold, again.action, again.enabled) == (12, "report", False)
        assert sorted(e.entry_id for e in store.iter_entries("bad")) == ["e1", "e2"]
        assert len(store.find_exact(HashAlgorithm.MD5, [digest_of("md5", 1)])) == 1
        given = store.import_list(bad_list(pdq_threshold=40), [make_entry(1)])
        assert given.pdq_threshold == 40

    def test_duplicate_entry_ids_collapse_to_the_last(self, store: HashListStore) -> None:
        first = make_entry(1, entry_id="dup")
        last = make_entry(2, entry_id="dup")
        stored = store.import_list(bad_list(), [first, make_entry(3), last])
        assert stored.entry_count == 2
        entries = {e.entry_id: e for e in store.iter_entries("bad")}
        assert entries["dup"].digests == last.digests

    def test_find_exact_across_lists(self, store: HashListStore) -> None:
        store.import_list(bad_list(), [make_entry(1), make_entry(2)])
        good = HashList("good", ListKind.KNOWN_GOOD)
        store.import_list(good, [make_entry(2, entry_id="g2")])
        hits = store.find_exact(HashAlgorithm.SHA1, [digest_of("sha1", 2).upper(), "0" * 40])
        assert sorted((h.hash_list.name, h.entry.entry_id) for h in hits) == [
            ("bad", "e2"),
            ("good", "g2"),
        ]
        assert store.find_exact(HashAlgorithm.MD5, []) == []
        with pytest.raises(InvalidDigestError):
            store.find_exact(HashAlgorithm.PDQ, [digest_of("pdq", 1)])
        with pytest.raises(InvalidDigestError):
            store.find_exact(HashAlgorithm.MD5, ["xyz"])

    def test_add_and_remove_entries(self, store: HashListStore) -> None:
        store.import_list(bad_list(), [make_entry(1)])
        assert store.add_entries("bad", [make_entry(2), make_entry(3, entry_id="e1")]) == 2
        assert store.get_list("bad").entry_count == 2
        (e1,) = [e for e in store.iter_entries("bad") if e.entry_id == "e1"]
        assert e1.digests[HashAlgorithm.MD5] == digest_of("md5", 3)
        assert store.remove_entries("bad", ["e2", "nope", "e2"]) == 1
        assert store.get_list("bad").entry_count == 1
        with pytest.raises(NotFoundError):
            store.add_entries("missing", [make_entry(1)])
        with pytest.raises(NotFoundError):
            store.remove_entries("missing", ["e1"])

    def test_pdq_change_log(self, store: HashListStore) -> None:
        assert not store.pdq_rows_since(0).added_ids
        store.import_list(bad_list(), [make_entry(1), make_entry(2, pdq=False), make_entry(3)])
        full = store.pdq_rows_since(0)
        assert len(full.added_ids) == 2
        assert len(full.added_codes) == 64
        assert list(full.removed_ids) == []
        assert full.revision == store.current_revision() > 0
        rows = store.entries_by_rows(list(full.added_ids))
        codes = {rows[i].entry.digests[HashAlgorithm.PDQ] for i in full.added_ids}
        assert codes == {digest_of("pdq", 1), digest_of("pdq", 3)}
        assert (
            bytes.fromhex(rows[full.added_ids[0]].entry.digests[HashAlgorithm.PDQ])
            == (full.added_codes[:32])
        )
        assert store.pdq_rows_since(full.revision).is_empty
        assert store.pdq_rows_since(full.revision).revision == full.revision

        store.add_entries("bad", [make_entry(4)])
        store.remove_entries("bad", ["e1", "e2"])
        delta = store.pdq_rows_since(full.revision)
        e1_row = next(i for i in full.added_ids if rows[i].entry.entry_id == "e1")
        assert list(delta.removed_ids) == [e1_row]
        (new_row,) = delta.added_ids
        assert new_row not in full.added_ids
        assert store.entries_by_rows([new_row])[new_row].entry.entry_id == "e4"
        assert store.entries_by_rows([e1_row]) == {}

        store.remove_list("bad")
        gone = store.pdq_rows_since(delta.revision)
        assert sorted(gone.removed_ids) == sorted({*full.added_ids, new_row} - {e1_row})
        assert not store.pdq_rows_since(0).added_ids

    def test_reimport_changes_only_what_differs(self, store: HashListStore) -> None:
        store.import_list(bad_list(), [make_entry(1), make_entry(2), make_entry(3, pdq=False)])
        before = store.pdq_rows_since(0)
        first = store.current_revision()
        rows = store.entries_by_rows(list(before.added_ids))
        by_entry = {stored.entry.entry_id: row_id for row_id, stored in rows.items()}
        changed = replace(make_entry(2), file_name="renamed.jpg")
        stored = store.import_list(bad_list(), [make_entry(1), changed, make_entry(4)])
        assert stored.entry_count == 3
        delta = store.pdq_rows_since(before.revision)
        # e1 is unchanged: same row, not logged; e2 changed and e3 left: their rows go.
        assert by_entry["e1"] in store.entries_by_rows([by_entry["e1"]])
        assert sorted(delta.removed_ids) == [by_entry["e2"]]
        assert len(delta.added_ids) == 2  # the new e2 and e4
        assert len(store.removed_rows_between(first, store.current_revision())) == 2
        assert [e.entry_id for e in store.iter_entries("bad")] == ["e1", "e2", "e4"]
        assert next(e for e in store.iter_entries("bad") if e.entry_id == "e2") == changed
        # The same list again changes nothing at all.
        again = store.current_revision()
        store.import_list(bad_list(), [make_entry(1), changed, make_entry(4)])
        assert store.pdq_rows_since(again).is_empty
        assert list(store.removed_rows_between(again, store.current_revision())) == []

    def test_exact_change_log(self, store: HashListStore) -> None:
        start = store.current_revision()
        upper = HashEntry("up", {HashAlgorithm.MD5: digest_of("md5", 9).upper()})
        store.import_list(bad_list(), [make_entry(1), make_entry(2, pdq=False), upper])
        first = store.current_revision()
        md5 = store.digest_rows_between(HashAlgorithm.MD5, start, first)
        sha1 = store.digest_rows_between(HashAlgorithm.SHA1, start, first)
        assert list(md5.ids) == sorted(md5.ids)
        assert len(md5.ids) == 3
        assert len(sha1.ids) == 2  # the "up" entry has no SHA-1
        rows = store.entries_by_rows(list(md5.ids))
        by_entry = {
            rows[i].entry.entry_id: (i, v) for i, v in zip(md5.ids, md5.values, strict=True)
        }
        assert by_entry["up"][1] == digest_of("md5", 9)  # canonical, lower-case
        assert by_entry["e2"][1] == digest_of("md5", 2)
        assert not store.digest_rows_between(HashAlgorithm.MD5, first, first).ids
        assert list(store.removed_rows_between(start, first)) == []

        store.remove_entries("bad", ["e1", "e2"])  # one with PDQ, one without
        store.add_entries("bad", [make_entry(4, pdq=False)])
        second = store.current_revision()
        removed = store.removed_rows_between(first, second)
        assert list(removed) == sorted([by_entry["e1"][0], by_entry["e2"][0]])
        (added,) = store.digest_rows_between(HashAlgorithm.SHA256, first, second).ids
        assert store.entries_by_rows([added])[added].entry.entry_id == "e4"

        store.import_list(bad_list(), [make_entry(4, pdq=False)])  # e4 is kept as it is
        third = store.current_revision()
        assert list(store.removed_rows_between(second, third)) == [by_entry["up"][0]]
        with pytest.raises(InvalidDigestError):
            store.digest_rows_between(HashAlgorithm.PDQ, 0, third)

    def test_update_and_remove_list(self, store: HashListStore) -> None:
        store.import_list(bad_list(), [make_entry(1)])
        updated = store.update_list("bad", enabled=False, pdq_threshold=25, action="quarantine")
        assert (updated.enabled, updated.pdq_threshold, updated.action) == (
            False,
            25,
            "quarantine",
        )
        assert store.update_list("bad").enabled is False
        assert store.get_list("bad") == updated
        store.remove_list("bad")
        with pytest.raises(NotFoundError):
            store.get_list("bad")
        with pytest.raises(NotFoundError):
            store.remove_list("bad")
        with pytest.raises(NotFoundError):
            store.update_list("bad", enabled=True)
        with pytest.raises(NotFoundError):
            list(store.iter_entries("bad"))
        assert store.find_exact(HashAlgorithm.MD5, [digest_of("md5", 1)]) == []

    def test_reference_lists(self, store: HashListStore) -> None:
        nsrl = HashList("nsrl", ListKind.KNOWN_GOOD, source="NIST", version="2024.03.1")
        stored = store.register_reference_list(nsrl, "/data/RDS_2024.03.1_modern_minimal.db")
        assert stored.name == "nsrl"
        assert stored.kind is ListKind.KNOWN_GOOD
        (ref,) = store.reference_lists()
        assert ref.location.endswith("minimal.db")
        assert ref.hash_list == stored
        assert [h.name for h in store.all_lists()] == ["nsrl"]
        assert list(store.iter_entries("nsrl")) == []
        with pytest.raises(StorageError):
            store.add_entries("nsrl", [make_entry(1)])
        store.import_list(bad_list(), [make_entry(1)])
        assert [r.hash_list.name for r in store.reference_lists()] == ["nsrl"]
        store.remove_list("nsrl")
        assert store.reference_lists() == []

    def test_identity_is_stable(self, store: HashListStore) -> None:
        identity = store.store_identity()
        assert identity
        assert identity == store.store_identity()
