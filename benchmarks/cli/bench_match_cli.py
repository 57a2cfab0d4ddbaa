"""`safeguard lists import` and `safeguard match --hashes` as a user runs them, at list scale.

Not a timed test: run it by hand. For each size N it

1. writes a PDQ list (threatexchange/HMA CSV layout: ``id,pdq``; random stand-in codes,
   never hashes of real content) and times ``safeguard lists import`` of it, as a
   command, on SQLite (a file in a temporary data folder) and, with ``--postgres``, on a
   throwaway PostgreSQL database; wall time, the command's CPU time and its peak RSS;
2. runs ``safeguard match --hashes Q.txt --algorithm pdq --json`` with one query
   (start-up: imports, index load, store) and with Q queries (half planted within
   0..31 bits of a listed code, half random), three times each. Lookups per second
   *beyond start-up* are ``(Q - 1) / (t_Q - t_1)`` on the medians, in wall time and in
   the command's CPU time;
   Each command's own peak RSS is read with ``wait4``;
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
        [--reuse-data /var/tmp/sg-bench]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
    """Run ``safeguard ARGS``; wall s, CPU s (user + sys of the child), peak RSS MiB, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("safeguard")), *args],
        env=env,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"safeguard {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest of any child so far; each size runs import first.
    return wall, cpu, after.ru_maxrss / 1024, done.stdout or ""


def import_list(
    folder: Path, codes: NDArray[np.uint8], env: dict[str, str], label: str
) -> dict[str, float]:
    """Write the list to `folder` and import it with ``safeguard lists import`` (timed)."""
    list_file = folder / "list.csv"
    write_list(list_file, codes)
    imp_wall, imp_cpu, imp_rss, _ = run_cli(
        ["lists", "import", str(list_file), "--name", "bench", "--kind", "known-bad"], env
    )
    list_file.unlink()
    print(
        f"[{label} N={codes.shape[0]:,}] import: {imp_wall:.1f} s wall, {imp_cpu:.1f} s CPU, "
        f"peak RSS {imp_rss:.0f} MiB",
        flush=True,
    )
    return {"import_wall_s": imp_wall, "import_cpu_s": imp_cpu, "import_peak_rss_mib": imp_rss}


def reused_store(folder: Path, codes: NDArray[np.uint8], env: dict[str, str]) -> dict[str, float]:
    """Point `env` at a SQLite data folder kept under `folder`, importing the list only once.

    For repeated match timings at 10 million entries, where the import takes minutes. The
    folder is keyed by store, size and seed, so it always holds the same codes; the import
    figures of the run that made it are kept beside it (``imported.json``).
    """
    env["SAFEGUARD_DATA_DIR"] = str(folder / "data")
    marker = folder / "imported.json"
    if marker.is_file():
        figures: dict[str, float] = json.loads(marker.read_text(encoding="utf-8"))
        print(f"[reused {folder}] import figures of the run that made it: {figures}", flush=True)
        return figures
    if folder.exists():
        shutil.rmtree(folder)  # an import that did not finish
    folder.mkdir(parents=True)
    figures = import_list(folder, codes, env, "sqlite")
    marker.write_text(json.dumps(figures) + "\n", encoding="utf-8")
    return figures


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``safeguard ARGS``: wall s, CPU s (user + sys) and peak RSS MiB of this child alone.

    `run_cli` reads the children's rusage, whose peak RSS is the largest of any child so
    far (the import's); `os.wait4` gives the one command's own.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [str(Path(sys.executable).with_name("safeguard")), *args],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if child.returncode != 0:
            raise SystemExit(f"safeguard {' '.join(args)} failed:\n{errors[-3000:]}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read()


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
    run_measured([*match_args, str(one)], env)
    ones, manys = [], []
    for _ in range(repeats):
        ones.append(run_measured([*match_args, str(one)], env))
        manys.append(run_measured([*match_args, str(many)], env))
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
            imported = reused_store(reuse_data / f"{label}-{count}-seed{seed}", codes, env)
        else:
            env["SAFEGUARD_DATA_DIR"] = str(folder / "data")
            if db_url is not None:
                env["SAFEGUARD_DB"] = db_url
            imported = import_list(folder, codes, env, label)
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
        "store": label,
        "entries": count,
        **{key: round(value, 2) for key, value in imported.items()},
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
                    size, args.queries, args.recall, None, "sqlite", 1, reuse_data=args.reuse_data
                )
            )
        if args.postgres:
            admin = make_engine(args.postgres)
            name = f"sg_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            try:
                results.append(bench_size(size, args.queries, args.recall, url, "postgresql", 1))
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
