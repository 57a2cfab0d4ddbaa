"""`safeguard lists import` and `safeguard match --hashes` as a user runs them, at list scale.

Not a timed test: run it by hand. For each size N it

1. writes a PDQ list (threatexchange/HMA CSV layout: ``id,pdq``; random stand-in codes,
   never hashes of real content) and times ``safeguard lists import`` of it, as a
   command, on SQLite (a file in a temporary data folder) and, with ``--postgres``, on a
   throwaway PostgreSQL database; wall time, the command's CPU time, the PostgreSQL
   server's CPU time for that database (when the server runs on this machine) and the
   command's peak RSS. ``--import-only`` stops here;
2. runs ``safeguard match --hashes Q.txt --algorithm pdq --json`` with one query
   (start-up: imports, index load, store) and with Q queries (half planted within
   0..31 bits of a listed code, half random), three times each. Lookups per second
   *beyond start-up* are ``(Q - 1) / (t_Q - t_1)`` on the medians, in wall time and in
   the command's CPU time;
   Each command's own CPU time and peak RSS are read with ``wait4``;
3. in the same run, the engine on its own in this process, on the index the command saved
   (memory-mapped): `PdqIndex.search` one query per call, and `PdqIndex.search_batch` of
   every query on one thread (per CPU-second: the rate the command is compared with) and on
   the default threads (per wall-second);
4. recall: the command's matches for the first R queries against numpy brute force.

``--reuse-data DIR`` keeps each SQLite store under DIR and imports it only once, so that
match timings at 10 million entries can be repeated without paying the import again.

The machine may be shared: the CPU-time columns and the same-run ratios are the figures to
read; wall time is printed beside them.

Usage (from the repository root):

    uv run --no-sync python benchmarks/cli/bench_match_cli.py --sizes 1e6 [--queries 20000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--recall 200]
        [--import-only] [--reuse-data /var/tmp/sg-bench]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.engine import make_url

from safeguard.matching.brute_force import brute_force_search
from safeguard.matching.pdq_index import PdqIndex
from safeguard.storage.sql.engine import make_engine

THRESHOLD = 31


def _hex(codes: NDArray[np.uint8]) -> list[str]:
    return [row.tobytes().hex() for row in codes]


def write_list(path: Path, codes: NDArray[np.uint8]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("id,pdq\n")
        step = 200_000
        for start in range(0, codes.shape[0], step):
            chunk = codes[start : start + step]
            out.writelines(f"e{start + k},{h}\n" for k, h in enumerate(_hex(chunk)))


def queries_for(
    rng: np.random.Generator, codes: NDArray[np.uint8], count: int
) -> NDArray[np.uint8]:
    planted = codes[rng.integers(0, codes.shape[0], count // 2)].copy()
    bits = np.unpackbits(planted, axis=1)
    for row, flips in zip(bits, rng.integers(0, THRESHOLD + 1, planted.shape[0]), strict=True):
        row[rng.choice(256, size=int(flips), replace=False)] ^= 1
    planted = np.packbits(bits, axis=1)
    randoms = rng.integers(0, 256, size=(count - planted.shape[0], 32), dtype=np.uint8)
    mixed = np.concatenate([planted, randoms])
    return mixed[rng.permutation(mixed.shape[0])]


def run_cli(
    args: list[str], env: dict[str, str], stdout: int | None = None
) -> tuple[float, float, float, str]:
    """Run ``safeguard ARGS``; wall s, CPU s (user + sys), peak RSS MiB, stdout.

    CPU and RSS are this command's own (`os.wait4`), not the largest of every child so far.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("safeguard")), *args],
            env=env,
            stdout=out if stdout is None else stdout,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"safeguard {' '.join(args)} failed:\n{errors[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


class ServerCpu:
    """CPU seconds PostgreSQL's own processes spend on one database while a command runs.

    The server does the COPY, the index builds and the checks: on a shared machine that is
    part of an import's cost. A thread reads ``pg_stat_activity`` every `interval` seconds
    for the backends (and parallel workers) on `database` and their ``/proc`` CPU counters;
    each process counts at its last reading. Only for a server on this machine, read by a
    user allowed to see its processes; otherwise `seconds` is None.
    """

    def __init__(self, admin_url: str, database: str, interval: float = 0.05) -> None:
        self._engine = make_engine(admin_url)
        self._database = database
        self._interval = interval
        self._stop = threading.Event()
        self._last: dict[int, float] = {}
        self._failed = False
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ServerCpu:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._engine.dispose()

    def _watch(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not self._stop.is_set():
                pids = conn.exec_driver_sql(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self._database,),
                ).scalars()
                for pid in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self._last[pid] = (int(fields[11]) + int(fields[12])) / ticks
                self._stop.wait(self._interval)

    @property
    def seconds(self) -> float | None:
        """The CPU seconds seen, or None when no server process could be read."""
        return sum(self._last.values()) if self._last else None


def import_list(
    folder: Path,
    codes: NDArray[np.uint8],
    env: dict[str, str],
    label: str,
    db_url: str | None = None,
    admin_url: str | None = None,
) -> dict[str, object]:
    """Write the list to `folder` and import it with ``safeguard lists import`` (timed)."""
    count = codes.shape[0]
    list_file = folder / "list.csv"
    write_list(list_file, codes)
    if db_url is not None:
        run_cli(["db", "init"], env)  # a server database is created empty, not by import
    import_args = ["lists", "import", str(list_file), "--name", "bench", "--kind", "known-bad"]
    server_cpu: float | None = None
    if admin_url is not None and db_url is not None:
        with ServerCpu(admin_url, str(make_url(db_url).database)) as server:
            imp_wall, imp_cpu, imp_rss, _ = run_cli(import_args, env)
        server_cpu = server.seconds
    else:
        imp_wall, imp_cpu, imp_rss, _ = run_cli(import_args, env)
    list_file.unlink()
    on_server = "" if server_cpu is None else f" + {server_cpu:.1f} s PostgreSQL server CPU"
    print(
        f"[{label} N={count:,}] import: {imp_wall:.1f} s wall, {imp_cpu:.1f} s CPU{on_server}, "
        f"peak RSS {imp_rss:.0f} MiB",
        flush=True,
    )
    return {
        "store": label,
        "entries": count,
        "import_wall_s": round(imp_wall, 2),
        "import_cpu_s": round(imp_cpu, 2),
        "import_server_cpu_s": None if server_cpu is None else round(server_cpu, 2),
        "import_peak_rss_mib": round(imp_rss),
    }


def reused_store(folder: Path, codes: NDArray[np.uint8], env: dict[str, str]) -> dict[str, object]:
    """Point `env` at a SQLite data folder kept under `folder`, importing the list only once.

    For repeated match timings at 10 million entries, where the import takes minutes. The
    folder is keyed by store, size and seed, so it always holds the same codes; the import
    figures of the run that made it are kept beside it (``imported.json``).
    """
    env["SAFEGUARD_DATA_DIR"] = str(folder / "data")
    marker = folder / "imported.json"
    if marker.is_file():
        run_cli(["db", "upgrade"], env)  # a store made by an older checkout
        figures: dict[str, object] = json.loads(marker.read_text(encoding="utf-8"))
        print(f"[reused {folder}] import figures of the run that made it: {figures}", flush=True)
        return figures
    if folder.exists():
        shutil.rmtree(folder)  # an import that did not finish
    folder.mkdir(parents=True)
    figures = import_list(folder, codes, env, "sqlite")
    marker.write_text(json.dumps(figures) + "\n", encoding="utf-8")
    return figures


@dataclass
class MatchTiming:
    """What `time_match` measured: medians, rates beyond start-up, the largest peak RSS."""

    records: list[dict[str, Any]]
    startup_wall: float
    startup_cpu: float
    beyond_wall: float
    beyond_cpu: float
    peak_rss: float


def time_match(
    folder: Path,
    query_codes: NDArray[np.uint8],
    env: dict[str, str],
    label: str,
    count: int,
    repeats: int,
) -> MatchTiming:
    """Time ``match --hashes`` with one query and with all of them (medians of `repeats`)."""
    queries = query_codes.shape[0]
    # Bytecode as an installed package has it: this machine's shell sets
    # PYTHONDONTWRITEBYTECODE, which makes every start compile from source (seconds of
    # CPU that vary from run to run and blur the difference taken beyond start-up).
    for source in {sysconfig.get_paths()["purelib"], str(Path(__file__).parents[2] / "src")}:
        compileall.compile_dir(source, quiet=2, workers=2)
    env = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    many = folder / "queries.txt"
    many.write_text("\n".join(_hex(query_codes)) + "\n", encoding="utf-8")
    one = folder / "one.txt"
    one.write_text(_hex(query_codes[:1])[0] + "\n", encoding="utf-8")
    match_args = ["match", "--algorithm", "pdq", "--json", "--hashes"]
    # First call builds and saves the indexes (or maps the saved ones into the page cache);
    # it is not timed. On a shared machine the CPU time of one run varies by tens of per
    # cent: medians of `repeats` runs each.
    run_cli([*match_args, str(one)], env)
    ones, manys = [], []
    for _ in range(repeats):
        ones.append(run_cli([*match_args, str(one)], env))
        manys.append(run_cli([*match_args, str(many)], env))
    w1 = statistics.median(r[0] for r in ones)
    c1 = statistics.median(r[1] for r in ones)
    wq = statistics.median(r[0] for r in manys)
    cq = statistics.median(r[1] for r in manys)
    match_rss, out = max(r[2] for r in manys), manys[-1][3]
    beyond_wall = (queries - 1) / max(wq - w1, 1e-9)
    beyond_cpu = (queries - 1) / max(cq - c1, 1e-9)
    print(
        f"[{label} N={count:,}] match --hashes: start-up {w1:.2f} s wall / {c1:.2f} s CPU; "
        f"{queries:,} queries {wq:.2f} s / {cq:.2f} s; beyond start-up "
        f"{beyond_wall:,.0f}/s wall, {beyond_cpu:,.0f}/s CPU",
        flush=True,
    )
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(records) == queries, (len(records), queries)
    return MatchTiming(records, w1, c1, beyond_wall, beyond_cpu, match_rss)


def bench_size(
    count: int,
    queries: int,
    recall_count: int,
    db_url: str | None,
    label: str,
    seed: int,
    repeats: int = 3,
    *,
    import_only: bool = False,
    admin_url: str | None = None,
    reuse_data: Path | None = None,
) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    with tempfile.TemporaryDirectory(prefix="sg-bench-cli-") as tmp:
        folder = Path(tmp)
        env = {**os.environ}
        env.pop("SAFEGUARD_DB", None)
        env.pop("SAFEGUARD_DATABASE_URL", None)
        if reuse_data is not None:
            reused = reused_store(reuse_data / f"{label}-{count}-seed{seed}", codes, env)
            imported = {"store": label, "entries": count, **reused}
        else:
            env["SAFEGUARD_DATA_DIR"] = str(folder / "data")
            if db_url is not None:
                env["SAFEGUARD_DB"] = db_url
            imported = import_list(folder, codes, env, label, db_url, admin_url)
        if import_only:
            return imported
        query_codes = queries_for(rng, codes, queries)
        timed = time_match(folder, query_codes, env, label, count, repeats)
        engine = time_engine(Path(env["SAFEGUARD_DATA_DIR"]) / "index", codes, query_codes)

    # Recall: the command's answers for the first R queries against brute force.
    expected = found = 0
    for record, code in zip(timed.records[:recall_count], query_codes[:recall_count], strict=True):
        rows, _ = brute_force_search(codes, code, THRESHOLD)
        want = {f"e{r}" for r in rows.tolist()}
        got = {m["entry_id"] for m in record["matches"] if m["algorithm"] == "pdq"}
        expected += len(want)
        found += len(want & got)
        assert got <= want, "a match brute force does not find"
    recall = found / expected if expected else 1.0
    beyond_cpu = timed.beyond_cpu
    print(
        f"[{label} N={count:,}] engine in-process: {engine['one_cpu']:,.0f}/s one query per "
        f"call; batched {engine['batch_cpu']:,.0f}/s per CPU-second (1 thread), "
        f"{engine['batch_wall']:,.0f}/s wall ({engine['threads']:.0f} threads). CLI beyond "
        f"start-up / engine batched = {beyond_cpu / engine['batch_cpu']:.2f}x (CPU), "
        f"{timed.beyond_wall / engine['batch_wall']:.2f}x (wall); recall "
        f"{recall:.3f} over {recall_count} queries ({expected} pairs); match peak RSS "
        f"{timed.peak_rss:.0f} MiB",
        flush=True,
    )
    return {
        **imported,
        "startup_wall_s": round(timed.startup_wall, 3),
        "startup_cpu_s": round(timed.startup_cpu, 3),
        "queries": queries,
        "beyond_startup_wall_per_s": round(timed.beyond_wall),
        "beyond_startup_cpu_per_s": round(beyond_cpu),
        "match_peak_rss_mib": round(timed.peak_rss),
        "engine_one_per_call_cpu_per_s": round(engine["one_cpu"]),
        "engine_batch_cpu_per_s": round(engine["batch_cpu"]),
        "engine_batch_wall_per_s": round(engine["batch_wall"]),
        "recall": recall,
        "recall_pairs": expected,
    }


def time_engine(
    index_folder: Path, codes: NDArray[np.uint8], query_codes: NDArray[np.uint8]
) -> dict[str, float]:
    """The engine alone in this process, same data and queries: the index the command saved
    (memory-mapped, as the command opens it), else one built here.

    One query per call, and the whole query set in one `search_batch` on one thread (lookups
    per CPU-second) and on the default threads (lookups per wall-second).
    """
    pointers = sorted(index_folder.glob("pdq-*.json"))
    if pointers:
        saved = json.loads(pointers[0].read_text(encoding="utf-8"))["directory"]
        index = PdqIndex.load(index_folder / saved, mmap=True)
    else:
        index = PdqIndex.build(np.arange(1, codes.shape[0] + 1, dtype=np.int64), codes)
    index.search(query_codes[0], THRESHOLD)  # compile/load kernels
    sample = query_codes[: min(query_codes.shape[0], 5000)]
    cpu0 = time.process_time()
    for code in sample:
        index.search(code, THRESHOLD)
    one_cpu = sample.shape[0] / (time.process_time() - cpu0)
    starts = np.arange(query_codes.shape[0] + 1, dtype=np.int64)
    threads = index.search_threads
    index.search_threads = 1
    cpu0 = time.process_time()
    index.search_batch(query_codes, starts, THRESHOLD)
    batch_cpu = query_codes.shape[0] / (time.process_time() - cpu0)
    index.search_threads = threads
    wall0 = time.perf_counter()
    index.search_batch(query_codes, starts, THRESHOLD)
    batch_wall = query_codes.shape[0] / (time.perf_counter() - wall0)
    return {
        "one_cpu": one_cpu,
        "batch_cpu": batch_cpu,
        "batch_wall": batch_wall,
        "threads": threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6", help="comma-separated list sizes")
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--recall", type=int, default=200, help="queries checked by brute force")
    parser.add_argument("--postgres", help="server URL to create a throwaway database on")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--import-only", action="store_true", help="time `lists import` only, not match"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--reuse-data",
        type=Path,
        help="keep each SQLite store under this folder and import it only once (repeated "
        "match timings at 10 million); the import figures are those of the first run",
    )
    args = parser.parse_args()
    results = []
    for size in (int(float(s)) for s in args.sizes.split(",")):
        if not args.no_sqlite:
            results.append(
                bench_size(
                    size,
                    args.queries,
                    args.recall,
                    None,
                    "sqlite",
                    1,
                    import_only=args.import_only,
                    reuse_data=args.reuse_data,
                )
            )
        if args.postgres:
            admin = make_engine(args.postgres)
            name = f"import_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            try:
                results.append(
                    bench_size(
                        size,
                        args.queries,
                        args.recall,
                        url,
                        "postgresql",
                        1,
                        import_only=args.import_only,
                        admin_url=args.postgres,
                    )
                )
            finally:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 vCPUs, shared)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
