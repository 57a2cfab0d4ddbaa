"""Hash-list storage: import, index build, incremental refresh and lookups at scale.

Not a timed test: run it by hand on a quiet machine. For SQLite (a file under a temporary
folder) and optionally PostgreSQL (a throwaway database on the given server), measures

* importing N stand-in entries (MD5 + SHA-1 + SHA-256 + PDQ, random values) in one
  transaction through `SqlHashListStore.import_list`; the entries are generated
  beforehand, so the CPU time is the store's alone,
* a `MatchService` cold start (PDQ and exact-digest indexes built from the change log),
* re-importing the same list unchanged, and at the end with every entry changed (the worst
  case of a re-import by difference), each with the service's refresh that follows,
* a `MatchService.refresh` after adding 1,000 entries (incremental, no rebuild),
* a warm `refresh` with nothing changed, and a second process loading the saved indexes,
* `MatchService.match_digests` per second, single-threaded with `auto_refresh` on (one
  revision query per match): MD5 unknown (the common case) and known (first match of an
  entry, then matched again from the entry cache); PDQ unknown and known, beside the raw
  `PdqIndex.search` rate for the same codes,
* `SqlHashListStore.find_exact` with one value and with 1,000 values at once.

CPU time is this process only: for SQLite that is all the work, for PostgreSQL the client's
share (the server's work shows in wall time). On a shared machine compare CPU times.

Usage (from the repository root):

    uv run --no-sync python benchmarks/storage/bench_list_import.py [--entries 1000000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--queries 2000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import make_url

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.matching.pdq_index import PdqIndex
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


def timed(label: str, func: Callable[..., Any], *args: Any) -> Any:
    start, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:<44} {wall:8.2f} s wall {used:8.2f} s cpu (this process)")
    return result


def rate(label: str, func: Callable[[str], Any], values: Sequence[str]) -> None:
    start = time.perf_counter()
    for value in values:
        func(value)
    print(f"  {label:<44} {len(values) / (time.perf_counter() - start):10,.0f} /s")


def run(url: str, count: int, queries: int, workdir: Path) -> None:
    engine = make_engine(url)
    upgrade_schema(engine)
    store = SqlHashListStore(engine)
    listed = HashList("bench", ListKind.KNOWN_BAD)
    staged = list(entries(count, 1))
    timed(f"import {count:,} entries", store.import_list, listed, staged)
    service = MatchService(store, index_dir=workdir / "index")
    timed("cold start: both indexes from the change log", service.refresh)
    timed(f"re-import {count:,} entries, unchanged", store.import_list, listed, staged)
    timed("refresh after the re-import", service.refresh)
    timed("add 1,000 entries", store.add_entries, "bench", list(entries(1000, 2, "new")))
    timed("refresh after the add (incremental)", service.refresh)
    timed("refresh, nothing changed", service.refresh)
    timed(
        "second process: load saved indexes",
        MatchService(store, index_dir=workdir / "index").refresh,
    )

    rng = random.Random(7)
    known = [staged[rng.randrange(count)] for _ in range(min(queries, count))]
    unknown = list(entries(queries, 99, "u"))

    def md5(entry: HashEntry) -> str:
        return entry.digests[HashAlgorithm.MD5]

    def pdq(entry: HashEntry) -> str:
        return entry.digests[HashAlgorithm.PDQ]

    def match(algorithm: HashAlgorithm) -> Callable[[str], Any]:
        return lambda value: service.match_digests({algorithm: value})

    print("  match_digests, single-threaded, auto_refresh on:")
    rate("exact md5, unknown", match(HashAlgorithm.MD5), [md5(e) for e in unknown])
    rate("exact md5, known (first match)", match(HashAlgorithm.MD5), [md5(e) for e in known])
    rate("exact md5, known (entry cached)", match(HashAlgorithm.MD5), [md5(e) for e in known])
    service = MatchService(store, index_dir=workdir / "index")  # an empty entry cache
    service.refresh()
    rate("pdq, unknown (threshold 31)", match(HashAlgorithm.PDQ), [pdq(e) for e in unknown])
    rate("pdq, known (first match)", match(HashAlgorithm.PDQ), [pdq(e) for e in known])
    rate("pdq, known (entry cached)", match(HashAlgorithm.PDQ), [pdq(e) for e in known])
    raw = PdqIndex.build(*_pdq_arrays(staged))

    def raw_search(value: str) -> Any:
        return raw.search(np.frombuffer(bytes.fromhex(value), np.uint8), 31)

    rate("raw PdqIndex.search, unknown", raw_search, [pdq(e) for e in unknown])
    rate("raw PdqIndex.search, known", raw_search, [pdq(e) for e in known])
    interval = MatchService(store, index_dir=workdir / "index", revision_check_interval=0.1)
    interval.refresh()
    print("  match_digests with revision_check_interval=0.1:")
    rate(
        "exact md5, unknown",
        lambda value: interval.match_digests({HashAlgorithm.MD5: value}),
        [md5(e) for e in unknown],
    )
    rate(
        "pdq, unknown (threshold 31)",
        lambda value: interval.match_digests({HashAlgorithm.PDQ: value}),
        [pdq(e) for e in unknown],
    )
    rate(
        "store.find_exact, one unknown md5",
        lambda value: store.find_exact(HashAlgorithm.MD5, [value]),
        [md5(e) for e in unknown],
    )
    batch = [md5(e) for e in unknown[:500] + known[:500]]
    timed(
        f"store.find_exact, {len(batch):,} md5 at once", store.find_exact, HashAlgorithm.MD5, batch
    )
    changed = list(entries(count, 3))  # the same entry ids, every entry different
    timed(f"re-import {count:,} entries, all changed", store.import_list, listed, changed)
    timed("refresh after the re-import", service.refresh)
    engine.dispose()


def _pdq_arrays(staged: Sequence[HashEntry]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.arange(1, len(staged) + 1, dtype=np.int64)
    codes = b"".join(bytes.fromhex(e.digests[HashAlgorithm.PDQ]) for e in staged)
    return ids, np.frombuffer(codes, np.uint8).reshape(-1, 32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="URL of a database on the server to create in")
    parser.add_argument("--queries", type=int, default=2000, help="lookups per timed rate")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            print(f"SQLite, {args.entries:,} entries")
            run(f"sqlite:///{folder}/bench.db", args.entries, args.queries, Path(folder) / "sqlite")
    if args.postgres:
        name = f"safeguard_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.postgres)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            with tempfile.TemporaryDirectory() as folder:
                print(f"PostgreSQL, {args.entries:,} entries")
                url = make_url(args.postgres).set(database=name)
                url_text = url.render_as_string(hide_password=False)
                run(url_text, args.entries, args.queries, Path(folder))
        finally:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
