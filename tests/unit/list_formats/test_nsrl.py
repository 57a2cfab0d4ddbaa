from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import ListKind
from safeguard.list_formats import NsrlDatabase
from safeguard.list_formats.nsrl import LOOKUP_BATCH, NsrlReader
from tests.contracts.list_reader_contract import ListReaderContract
from tests.unit.list_formats.samples import StandIn, stand_in

ITEMS = [stand_in(seed) for seed in range(4)]

# The RDSv3 "minimal" schema as published (shape only; the rows below are invented).
SCHEMA = """
CREATE TABLE MFG (manufacturer_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE OS (operating_system_id INTEGER PRIMARY KEY, name TEXT, version TEXT,
                 manufacturer_id INTEGER);
CREATE TABLE PKG (package_id INTEGER PRIMARY KEY, name TEXT, version TEXT,
                  operating_system_id INTEGER, manufacturer_id INTEGER, language TEXT,
                  application_type TEXT);
CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
                   crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,
                   package_id INTEGER NOT NULL,
                   PRIMARY KEY (sha256, sha1, md5, crc32, file_name, file_size, package_id));
CREATE INDEX FILE_md5 ON FILE (md5);
CREATE TABLE VERSION (version VARCHAR UNIQUE NOT NULL, build_set VARCHAR NOT NULL,
                      build_date TIMESTAMP NOT NULL, release_date TIMESTAMP NOT NULL,
                      description VARCHAR NOT NULL);
CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5, crc32 FROM FILE;
"""


def build_rds(path: Path, items: list[StandIn]) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    connection.execute("INSERT INTO MFG VALUES (1, 'Stand-in Software Ltd')")
    connection.execute("INSERT INTO OS VALUES (1, 'StandinOS', '1', 1)")
    connection.executemany(
        "INSERT INTO PKG VALUES (?, ?, ?, 1, 1, 'English', 'Operating System')",
        [(10, "Stand-in Suite", "2.1"), (11, "Other Stand-in", "9")],
    )
    rows = []
    for item in items:
        rows.append(
            (item.sha256, item.sha1, item.md5, "0A0B0C0D", f"f{item.seed}.dll", item.size, 10)
        )
    # The first item also ships in a second package under another name.
    first = items[0]
    rows.append((first.sha256, first.sha1, first.md5, "0A0B0C0D", "copy.dll", first.size, 11))
    connection.executemany(
        "INSERT INTO FILE VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(a.upper(), b.upper(), c.upper(), *rest) for a, b, c, *rest in rows],
    )
    connection.execute(
        "INSERT INTO VERSION VALUES ('2099.03.1', 'Modern Minimal', '2099-03-01', '2099-03-15', "
        "'Stand-in build')"
    )
    connection.commit()
    connection.close()
    return path


@pytest.fixture
def rds(tmp_path: Path) -> Path:
    return build_rds(tmp_path / "RDS_minimal.db", ITEMS)


class TestNsrlReaderContract(ListReaderContract):
    @pytest.fixture
    def reader(self) -> NsrlReader:
        return NsrlReader()

    @pytest.fixture
    def example(self, rds: Path) -> Path:
        return rds

    @pytest.fixture
    def expected_count(self) -> int:
        return len(ITEMS)


def test_batched_lookup_by_md5_returns_canonical_keys(rds: Path) -> None:
    misses = [hashlib.md5(str(i).encode()).hexdigest() for i in range(LOOKUP_BATCH * 2)]
    wanted = [ITEMS[0].md5.upper(), ITEMS[2].md5, *misses]
    with NsrlDatabase(rds) as database:
        found = database.lookup(HashAlgorithm.MD5, wanted)
    assert set(found) == {ITEMS[0].md5, ITEMS[2].md5}
    entry = found[ITEMS[2].md5]
    assert entry.digests == {
        HashAlgorithm.SHA256: ITEMS[2].sha256,
        HashAlgorithm.SHA1: ITEMS[2].sha1,
        HashAlgorithm.MD5: ITEMS[2].md5,
    }
    assert entry.entry_id == f"sha256:{ITEMS[2].sha256}"
    assert entry.file_name == "f2.dll"
    assert entry.size == ITEMS[2].size
    assert entry.provenance.notes == "package: Stand-in Suite 2.1"


@pytest.mark.parametrize("algorithm", [HashAlgorithm.SHA1, HashAlgorithm.SHA256])
def test_lookup_by_sha1_and_sha256(rds: Path, algorithm: HashAlgorithm) -> None:
    value = getattr(ITEMS[3], algorithm.value)
    with NsrlDatabase(rds) as database:
        assert set(database.lookup(algorithm, [value])) == {value}


def test_lookup_refuses_pdq(rds: Path) -> None:
    with NsrlDatabase(rds) as database, pytest.raises(ValueError, match="pdq"):
        database.lookup(HashAlgorithm.PDQ, [ITEMS[0].pdq])


def test_lookup_query_uses_an_index(rds: Path) -> None:
    with NsrlDatabase(rds) as database:
        assert database.indexed_algorithms() == {HashAlgorithm.MD5, HashAlgorithm.SHA256}
    connection = sqlite3.connect(rds)
    plan = connection.execute(
        "EXPLAIN QUERY PLAN SELECT sha256 FROM FILE WHERE md5 IN (?, ?)", ["A", "a"]
    ).fetchall()
    connection.close()
    assert any("INDEX" in str(row[-1]) for row in plan)


def test_metadata_count_and_kind(rds: Path) -> None:
    with NsrlDatabase(rds) as database:
        metadata = database.metadata()
        assert database.count() == len(ITEMS) + 1
    assert metadata.source == "NIST NSRL"
    assert metadata.version == "2099.03.1"
    assert metadata.suggested_kind is ListKind.KNOWN_GOOD
    assert metadata.suggested_name == "nsrl-modern-minimal"
    assert metadata.stated["description"] == "Stand-in build"


def test_database_is_never_written(rds: Path) -> None:
    before = rds.read_bytes()
    listing = sorted(p.name for p in rds.parent.iterdir())
    with NsrlDatabase(rds) as database:
        database.lookup(HashAlgorithm.MD5, [ITEMS[1].md5])
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            database._connection.execute("DELETE FROM FILE")
    with NsrlReader().read(rds) as parsed:
        list(parsed.entries)
    assert rds.read_bytes() == before
    assert sorted(p.name for p in rds.parent.iterdir()) == listing


def test_immutable_mode_opens(rds: Path) -> None:
    with NsrlDatabase(rds, immutable=True) as database:
        assert database.lookup(HashAlgorithm.MD5, [ITEMS[1].md5])


def test_other_sqlite_files_are_not_nsrl(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE hashes (md5 BLOB)")
    connection.commit()
    connection.close()
    assert not NsrlReader().detect(other.read_bytes()[:100], other)
    with pytest.raises(ListFormatError, match="not an NSRL"):
        NsrlDatabase(other)
    with pytest.raises(ListFormatError, match="no such file"):
        NsrlDatabase(tmp_path / "missing.db")
