"""Hash-list storage: import, index build and incremental refresh at scale.

Not a timed test: run it by hand on a quiet machine. For SQLite (a file under a temporary
folder) and optionally PostgreSQL (a throwaway database on the given server), measures

* importing N stand-in entries (MD5 + SHA-1 + SHA-256 + PDQ, random values) in one
  transaction through `SqlHashListStore.import_list`,
* re-importing the same list (replace without duplicates),
* `pdq_rows_since(0)` plus building the `PdqIndex` (a `MatchService` cold start),
* a `MatchService.refresh` after adding 1,000 entries (incremental, no rebuild),
* a warm `refresh` with nothing changed, and exact/PDQ lookups per second.

CPU time is this process only: for SQLite that is all the work, for PostgreSQL the client's
share (the server's work shows in wall time). On a shared machine compare CPU times.

Usage (from the repository root):

    uv run --no-sync python benchmarks/storage/bench_list_import.py [--entries 1000000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.services.matching import MatchService
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.hash_list_store import SqlHashListStore


def entries(count: int, seed: int, prefix: str = "e") -> Iterator[HashEntry]:
    rng = random.Random(seed)
    for index in range(count):
        yield HashEntry(
            f"{prefix}{index}",
            {
                HashAlgorithm.MD5: f"{rng.getrandbits(128):032x}",
                HashAlgorithm.SHA1: f"{rng.getrandbits(160):040x}",
                HashAlgorithm.SHA256: f"{rng.getrandbits(256):064x}",
                HashAlgorithm.PDQ: f"{rng.getrandbits(256):064x}",
            },
        )


def timed(label: str, func, *args):  # type: ignore[no-untyped-def]
    start, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:<44} {wall:8.2f} s wall {used:8.2f} s cpu (this process)")
    return result


def run(url: str, count: int, workdir: Path) -> None:
    engine = make_engine(url)
    upgrade_schema(engine)
    store = SqlHashListStore(engine)
    listed = HashList("bench", ListKind.KNOWN_BAD)
    timed(f"import {count:,} entries", store.import_list, listed, entries(count, 1))
    timed(f"re-import {count:,} entries", store.import_list, listed, entries(count, 1))
    service = MatchService(store, index_dir=workdir / "index")
    timed("cold start: pdq_rows_since(0) + build", service.refresh)
    timed("add 1,000 entries", store.add_entries, "bench", entries(1000, 2, "new"))
    timed("refresh after the add (incremental)", service.refresh)
    timed("refresh, nothing changed", service.refresh)
    fresh = MatchService(store, index_dir=workdir / "index")
    timed("second process: load saved index", fresh.refresh)
    sample = list(entries(200, 1))
    start = time.perf_counter()
    for entry in sample:
        assert service.match_digests({HashAlgorithm.MD5: entry.digests[HashAlgorithm.MD5]})
    exact = len(sample) / (time.perf_counter() - start)
    start = time.perf_counter()
    for entry in sample:
        assert service.match_digests({HashAlgorithm.PDQ: entry.digests[HashAlgorithm.PDQ]})
    pdq = len(sample) / (time.perf_counter() - start)
    print(f"  exact md5 queries/s {exact:,.0f}; pdq queries/s (threshold 31) {pdq:,.0f}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="URL of a database on the server to create in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite, {args.entries:,} entries")
        run(f"sqlite:///{folder}/bench.db", args.entries, Path(folder) / "sqlite")
    if args.postgres:
        name = f"safeguard_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.postgres)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            with tempfile.TemporaryDirectory() as folder:
                print(f"PostgreSQL, {args.entries:,} entries")
                url = make_url(args.postgres).set(database=name)
                run(url.render_as_string(hide_password=False), args.entries, Path(folder))
        finally:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
