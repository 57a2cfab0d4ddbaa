"""Benchmark Safeguard's PdqIndex against faiss MultiHash (as python-threatexchange sets it up) and numpy.

Run from the repository root:

    uv run --no-sync python benchmarks/matching/bench_pdq_index.py                 # 1M + 10M + skewed 1M
    uv run --no-sync python benchmarks/matching/bench_pdq_index.py --sizes 1e6     # quick run

Every (method, dataset) runs in a fresh subprocess so memory figures are its own, and index
loading is timed in another fresh process from the saved files. Codes are random bit
patterns (uniform, or skewed: biased bits, near-duplicate clusters, runs of identical "flat"
codes); no image is involved. See README.md beside this file for what each column means.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

THRESHOLD = 31
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


# -- datasets ---------------------------------------------------------------------------------


def uniform_codes(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 256, size=(count, 32), dtype=np.uint8)


def skewed_codes(rng: np.random.Generator, count: int) -> np.ndarray:
    """Half biased-bit codes, 49 % near-duplicate clusters, 1 % identical flat codes (8 patterns)."""
    probabilities = rng.uniform(0.1, 0.9, size=256).astype(np.float32)
    biased_count = count // 2
    flat_count = count // 100
    cluster_count = count - biased_count - flat_count
    biased = np.empty((biased_count, 32), dtype=np.uint8)
    for start in range(0, biased_count, 100_000):
        block = rng.random((min(100_000, biased_count - start), 256), dtype=np.float32)
        biased[start : start + block.shape[0]] = np.packbits(block < probabilities, axis=1)
    centres = biased[rng.integers(0, biased_count, size=max(1, count // 50))]
    members = np.empty((cluster_count, 32), dtype=np.uint8)
    for start in range(0, cluster_count, 100_000):
        size = min(100_000, cluster_count - start)
        rate = rng.integers(0, 12, size=(size, 1)) / 256  # ~0-11 bits from the centre
        flips = np.packbits(rng.random((size, 256), dtype=np.float32) < rate, axis=1)
        members[start : start + size] = centres[rng.integers(0, len(centres), size=size)] ^ flips
    patterns = np.zeros((8, 32), dtype=np.uint8)
    for k in range(8):
        patterns[k, k * 4 : k * 4 + 4] = 0xFF
    flat = patterns[rng.integers(0, 8, size=flat_count)]
    codes = np.concatenate([biased, members, flat])
    return codes[rng.permutation(count)]


def planted_queries(
    rng: np.random.Generator, codes: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` indexed codes with d distinct bits flipped, d uniform in 0..31."""
    rows = rng.integers(0, codes.shape[0], size=count)
    distances = rng.integers(0, THRESHOLD + 1, size=count)
    bits = np.unpackbits(codes[rows], axis=1)
    for i, d in enumerate(distances):
        bits[i, rng.permutation(256)[:d]] ^= 1
    return rows.astype(np.int64), distances, np.packbits(bits, axis=1)


def make_dataset(folder: Path, kind: str, size: int, planted: int, random_queries: int) -> None:
    rng = np.random.default_rng(20261129 + size + (1 if kind == "skewed" else 0))
    codes = uniform_codes(rng, size) if kind == "random" else skewed_codes(rng, size)
    rows, distances, queries = planted_queries(rng, codes, planted)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "codes.npy", codes)
    np.save(folder / "planted_rows.npy", rows)
    np.save(folder / "planted_distances.npy", distances)
    np.save(folder / "queries.npy", np.concatenate([queries, uniform_codes(rng, random_queries)]))


# -- measurement helpers ----------------------------------------------------------------------


def memory_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, amount = line.split(":")
            values[key] = int(amount.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def folder_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def timed_queries(search: Any, queries: np.ndarray) -> tuple[float, float, list[np.ndarray]]:
    """Run one query per call; returns (q/s on the wall clock, q/s of CPU time, found ids).

    On a shared machine the wall clock also counts time spent waiting for a core; the CPU
    time of this single-threaded process is the single-core figure.
    """
    for query in queries[:5]:
        search(query)  # warm caches and compiled code
    found = []
    wall, cpu = time.perf_counter(), time.process_time()
    for query in queries:
        found.append(search(query))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(queries) / wall, len(queries) / cpu, found


# -- methods (each runs inside its own worker process) -----------------------------------------


def safeguard_searcher(index: Any) -> Any:
    def search(query: np.ndarray) -> np.ndarray:
        return np.array([m.row_id for m in index.search(query, THRESHOLD)], dtype=np.int64)

    return search


def faiss_searcher(index: Any) -> Any:
    def search(query: np.ndarray) -> np.ndarray:
        _, _, ids = index.range_search(query.reshape(1, 32), THRESHOLD + 1)
        return np.asarray(ids, dtype=np.int64)

    return search


def numpy_searcher(codes: np.ndarray) -> Any:
    from safeguard.matching.brute_force import brute_force_search

    def search(query: np.ndarray) -> np.ndarray:
        rows, _ = brute_force_search(codes, query, THRESHOLD)
        return rows

    return search


def build_worker(method: str, data: Path, out: Path, n_queries: int) -> dict[str, Any]:
    codes = np.load(data / "codes.npy")
    queries = np.load(data / "queries.npy")[:n_queries]
    ids = np.arange(codes.shape[0], dtype=np.int64)
    result: dict[str, Any] = {"method": method, "queries": len(queries)}
    saved = out / f"{method}-index"
    if method == "safeguard":
        from safeguard.matching.pdq_index import PdqIndex

        tiny = PdqIndex.build(ids[:64], codes[:64])  # compile kernels before measuring memory
        tiny.search(codes[0], THRESHOLD)
        before, _ = memory_mb()
        start = time.perf_counter()
        index = PdqIndex.build(ids, codes)
        result["build_s"] = time.perf_counter() - start
        after, peak = memory_mb()
        result["rss_mb"], result["peak_mb"] = after - before, peak - before
        result["layout"] = index.chunk_widths
        index.save(saved)
        search = safeguard_searcher(index)
        # one call per query with 8 variants, as for the 8 rotations/flips of an image
        noise = np.random.default_rng(8).integers(0, 256, size=(7, 32), dtype=np.uint8)
        groups = [np.vstack([query, noise]) for query in queries[:300]]
        index.search_variants(groups[0], THRESHOLD)
        cpu = time.process_time()
        for group in groups:
            index.search_variants(group, THRESHOLD)
        result["variants8_qps"] = len(groups) / (time.process_time() - cpu)
    elif method == "faiss":
        import faiss

        faiss.omp_set_num_threads(1)
        before, _ = memory_mb()
        start = time.perf_counter()
        index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryMultiHash(256, 16, 16))
        index.add_with_ids(codes, ids)
        faiss.downcast_IndexBinary(index.index).nflip = THRESHOLD // 16
        result["build_s"] = time.perf_counter() - start
        after, peak = memory_mb()
        result["rss_mb"], result["peak_mb"] = after - before, peak - before
        faiss.write_index_binary(index, str(saved))
        search = faiss_searcher(index)
    else:
        result["build_s"], result["rss_mb"], result["peak_mb"] = 0.0, 0.0, 0.0
        search = numpy_searcher(codes)
    result["save_mb"] = folder_mb(saved) if saved.exists() else 0.0
    result["qps_wall"], result["qps"], found = timed_queries(search, queries)
    offsets = np.cumsum([0] + [len(f) for f in found])
    np.savez(
        out / f"{method}-found.npz",
        offsets=offsets,
        ids=np.concatenate(found) if found else np.zeros(0, np.int64),
    )
    return result


def load_worker(method: str, data: Path, out: Path) -> dict[str, Any]:
    """Time opening the saved index in this fresh process, then the first 100 queries."""
    queries = np.load(data / "queries.npy")[:100]
    saved = out / f"{method}-index"
    result: dict[str, Any] = {}
    if method == "safeguard":
        from safeguard.matching.pdq_index import PdqIndex

        PdqIndex.build(np.arange(4), np.zeros((4, 32), np.uint8)).search(queries[0], THRESHOLD)
        for mmap in (False, True):
            before, _ = memory_mb()
            start, cpu = time.perf_counter(), time.process_time()
            index = PdqIndex.load(saved, mmap=mmap)
            loaded = time.perf_counter() - start
            result[f"load_{'mmap' if mmap else 'read'}_cpu_s"] = time.process_time() - cpu
            search = safeguard_searcher(index)
            start = time.perf_counter()
            for query in queries:
                search(query)
            first = time.perf_counter() - start
            key = "mmap" if mmap else "read"
            result[f"load_{key}_s"] = loaded
            result[f"first100_{key}_s"] = first
            result[f"load_{key}_rss_mb"] = memory_mb()[0] - before
            del index, search
    elif method == "faiss":
        import faiss

        faiss.omp_set_num_threads(1)
        before, _ = memory_mb()
        start, cpu = time.perf_counter(), time.process_time()
        index = faiss.read_index_binary(str(saved))
        result["load_read_s"] = time.perf_counter() - start
        result["load_read_cpu_s"] = time.process_time() - cpu
        result["load_read_rss_mb"] = memory_mb()[0] - before
        faiss.downcast_IndexBinary(index.index).nflip = THRESHOLD // 16
        search = faiss_searcher(index)
        start = time.perf_counter()
        for query in queries:
            search(query)
        result["first100_read_s"] = time.perf_counter() - start
    return result


# -- orchestration ----------------------------------------------------------------------------


def run_worker(*args: str) -> dict[str, Any]:
    env = {**os.environ, **SINGLE_THREAD_ENV}
    completed = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-4000:])
        raise SystemExit(f"worker {args} failed with {completed.returncode}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def recall(data: Path, out: Path, method: str, truth_queries: int) -> dict[str, Any]:
    """Compare with numpy brute force on its queries, and count planted neighbours found."""
    found = np.load(out / f"{method}-found.npz")
    truth = np.load(out / "numpy-found.npz")
    rows = np.load(data / "planted_rows.npy")
    offsets, ids = found["offsets"], found["ids"]
    t_offsets, t_ids = truth["offsets"], truth["ids"]
    wanted = hits = extra = 0
    for q in range(min(truth_queries, len(offsets) - 1, len(t_offsets) - 1)):
        expected = set(t_ids[t_offsets[q] : t_offsets[q + 1]].tolist())
        got = set(ids[offsets[q] : offsets[q + 1]].tolist())
        wanted += len(expected)
        hits += len(expected & got)
        extra += len(got - expected)
    planted = sum(
        int(rows[q]) in set(ids[offsets[q] : offsets[q + 1]].tolist())
        for q in range(min(len(rows), len(offsets) - 1))
    )
    return {
        "recall_vs_numpy": hits / wanted if wanted else 1.0,
        "false_hits_vs_numpy": extra,
        "truth_pairs": wanted,
        "planted_recall": planted / min(len(rows), len(offsets) - 1),
    }


def run_dataset(args: argparse.Namespace, kind: str, size: int) -> list[dict[str, Any]]:
    data = args.workdir / f"{kind}-{size}"
    out = data / "runs"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    make_dataset(data, kind, size, args.planted, args.random_queries)
    total = args.planted + args.random_queries
    brute = args.brute_queries if size < 5_000_000 else max(5, args.brute_queries // 10)
    plan = {
        "numpy": brute,
        "safeguard": total,
        "faiss": total if size < 5_000_000 else min(total, args.faiss_queries_10m),
    }
    rows = []
    for method in args.methods:
        print(f"  {kind} {size:,}: {method} ...", flush=True)
        result = run_worker("--worker", "build", method, str(data), str(out), str(plan[method]))
        if method != "numpy":
            result.update(run_worker("--worker", "load", method, str(data), str(out)))
        result.update(dataset=kind, size=size)
        rows.append(result)
    for result in rows:
        result.update(recall(data, out, result["method"], plan["numpy"]))
    if not args.keep:
        shutil.rmtree(data)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        "| dataset | N | method | build s | RSS MB | peak MB | saved MB | load s: read (CPU) / "
        "mmap (first 100 q) | q/s CPU (wall) | vs faiss | recall vs numpy (pairs) | planted recall |"
    )
    print(header)
    print("|---|---:|---|---:|---:|---:|---:|---|---:|---:|---|---:|")
    for r in rows:
        faiss_qps = next(
            (
                x["qps"]
                for x in rows
                if x["method"] == "faiss"
                and x["size"] == r["size"]
                and x["dataset"] == r["dataset"]
            ),
            None,
        )
        load = "-"
        if "load_read_s" in r:
            load = f"{r['load_read_s']:.2f} (CPU {r['load_read_cpu_s']:.2f})"
            if "load_mmap_s" in r:
                load += f" / {r['load_mmap_s']:.3f} ({r['first100_mmap_s']:.2f})"
        ratio = f"{r['qps'] / faiss_qps:.1f}x" if faiss_qps else "-"
        print(
            f"| {r['dataset']} | {r['size']:,} | {r['method']} | {r['build_s']:.1f} "
            f"| {r['rss_mb']:.0f} | {r['peak_mb']:.0f} | {r['save_mb']:.0f} | {load} "
            f"| {r['qps']:,.0f} ({r['qps_wall']:,.0f}), {r['queries']} q | {ratio} "
            f"| {r['recall_vs_numpy']:.3f} ({r['truth_pairs']}) | {r['planted_recall']:.3f} |"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        stage, method, data, out = sys.argv[2], sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])
        if stage == "build":
            result = build_worker(method, data, out, int(sys.argv[6]))
        else:
            result = load_worker(method, data, out)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--skewed-sizes", nargs="*", type=float, default=[1e6])
    parser.add_argument("--methods", nargs="+", default=["numpy", "safeguard", "faiss"])
    parser.add_argument("--planted", type=int, default=2000)
    parser.add_argument("--random-queries", type=int, default=1000)
    parser.add_argument(
        "--brute-queries", type=int, default=200, help="numpy queries at 1M (10M: a tenth)"
    )
    parser.add_argument("--faiss-queries-10m", type=int, default=400)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/results/pdq_index"))
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--keep", action="store_true", help="keep datasets and saved indexes")
    args = parser.parse_args()
    if "numpy" not in args.methods:
        args.methods.insert(0, "numpy")  # the truth for every recall figure
    args.methods.sort(key=["numpy", "safeguard", "faiss"].index)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for kind, sizes in (("random", args.sizes), ("skewed", args.skewed_sizes)):
        for size in sizes:
            rows.extend(run_dataset(args, kind, int(size)))
    print(f"\nthreshold {THRESHOLD}, one thread, {time.perf_counter() - started:.0f} s in all\n")
    print_table(rows)
    for r in rows:
        if "variants8_qps" in r:
            print(
                f"\nsafeguard search_variants, 8 variants per call, {r['dataset']} {r['size']:,}: "
                f"{r['variants8_qps']:,.0f} calls/s (CPU)",
                end="",
            )
    print()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
