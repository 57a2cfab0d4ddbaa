"""Hashing throughput: Safeguard against ThreatExchange (PDQ) and hashlib/coreutils (digests).

Not a timed test: run it by hand (repeat-to-repeat spread is reported; medians are what
counts). Everything runs in one process on one core, in the same run, files in the page
cache. Times are CPU seconds of the process doing the work (``time.process_time``, and
``getrusage`` of the children for coreutils), so "per core" rates stay meaningful on a
shared machine; every method hashes the same image back to back, in rotating order.

Images: a seeded benign JPEG corpus (`photo_corpus`, equal thirds of 12 MP, 2 MP and
0.3 MP), images per second per core of

* Safeguard ``hash_file`` in fast mode (PDQ + MD5 + SHA-1 + SHA-256 from one read),
* Safeguard ``hash_file`` in reference mode (same, full-size PDQ),
* ThreatExchange ``PdqSignal.hash_from_file`` (PDQ alone: read, PIL decode, pdqhash),

and the ratio of Safeguard to ThreatExchange.

Digests: MB/s (10^6 bytes) of MD5 + SHA-1 + SHA-256 by Safeguard (``hash_file`` with the
three digests only, streaming 1 MiB chunks) against the floor of ``hashlib`` on bytes
already in memory (the three digests of each whole file) and against ``md5sum``,
``sha1sum`` and ``sha256sum`` run one after another over the same files.

Usage (from the repository root):

    uv run --no-sync python benchmarks/hashing/bench_hashing.py [--per-class 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import photo_corpus
from threatexchange.signal_type.pdq.signal import PdqSignal

from safeguard.domain.digests import HashAlgorithm
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_file

FAST = HashOptions(pdq_mode="fast")
REFERENCE = HashOptions(pdq_mode="reference")
DIGESTS_ONLY = HashOptions(
    algorithms=frozenset({HashAlgorithm.MD5, HashAlgorithm.SHA1, HashAlgorithm.SHA256})
)

CLOCK = time.process_time
"""CPU seconds of this process: on a shared machine, wall-clock time measures the neighbours."""

IMAGE_METHODS: dict[str, Callable[[Path], object]] = {
    "safeguard fast (PDQ + 3 digests)": lambda path: hash_file(path, FAST),
    "safeguard reference (PDQ + 3 digests)": lambda path: hash_file(path, REFERENCE),
    "threatexchange PdqSignal.hash_from_file (PDQ)": PdqSignal.hash_from_file,
}


def spread(values: list[float]) -> str:
    return f"{(max(values) - min(values)) / statistics.median(values):.0%}"


def bench_images(files: dict[str, list[Path]], repeats: int) -> None:
    sizes = list(files)
    names = list(IMAGE_METHODS)
    seconds: dict[str, dict[str, list[float]]] = {
        name: {size: [0.0] * repeats for size in sizes} for name in names
    }
    turn = 0
    for repeat in range(repeats):
        for size in sizes:
            for path in files[size]:
                # Every method on the same image back to back, in a rotating order, so that
                # bursts of load from other processes hit all methods alike.
                turn += 1
                for name in names[turn % len(names) :] + names[: turn % len(names)]:
                    started = CLOCK()
                    IMAGE_METHODS[name](path)
                    seconds[name][size][repeat] += CLOCK() - started

    count = {size: len(paths) for size, paths in files.items()}
    print(f"\n## Images per CPU-second, one core (median of {repeats} repeats)\n")
    header = " | ".join(f"{s} {photo_corpus.SIZES[s][0]}x{photo_corpus.SIZES[s][1]}" for s in sizes)
    print(f"| method | {header} | all (equal thirds) | spread |")
    print("|---|" + "---:|" * (len(sizes) + 2))
    rates: dict[str, dict[str, float]] = {}
    for name in names:
        per_size = {s: count[s] / statistics.median(seconds[name][s]) for s in sizes}
        totals = [sum(seconds[name][s][r] for s in sizes) for r in range(repeats)]
        per_size["all"] = sum(count.values()) / statistics.median(totals)
        rates[name] = per_size
        cells = " | ".join(f"{per_size[s]:.1f}" for s in [*sizes, "all"])
        print(f"| {name} | {cells} | {spread(totals)} |")
    reference_name = names[-1]
    for name in names[:-1]:
        cells = " | ".join(
            f"{rates[name][s] / rates[reference_name][s]:.1f}x" for s in [*sizes, "all"]
        )
        print(f"| ratio {name.split(' (')[0]} / threatexchange | {cells} | |")


def bench_digests(paths: list[Path], repeats: int) -> None:
    blobs = [path.read_bytes() for path in paths]
    megabytes = sum(map(len, blobs)) / 1e6

    def floor() -> None:
        for blob in blobs:
            hashlib.md5(blob).hexdigest()
            hashlib.sha1(blob).hexdigest()
            hashlib.sha256(blob).hexdigest()

    def safeguard() -> None:
        for path in paths:
            hash_file(path, DIGESTS_ONLY)

    def coreutils(*tools: str) -> Callable[[], float]:
        def run() -> float:
            # CPU time of the child processes (user + system), like CLOCK for ourselves.
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            for tool in tools:
                subprocess.run([tool, *map(str, paths)], check=True, stdout=subprocess.DEVNULL)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

        return run

    def timed(work: Callable[[], None]) -> Callable[[], float]:
        def run() -> float:
            started = CLOCK()
            work()
            return CLOCK() - started

        return run

    methods: dict[str, Callable[[], float]] = {
        "hashlib md5+sha1+sha256, bytes in memory (floor)": timed(floor),
        "safeguard hash_file, md5+sha1+sha256 one pass": timed(safeguard),
    }
    tools = ("md5sum", "sha1sum", "sha256sum")
    if all(shutil.which(tool) for tool in tools):
        methods["md5sum; sha1sum; sha256sum one after another"] = coreutils(*tools)
        for tool in tools:
            methods[f"  {tool} alone"] = coreutils(tool)
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    for repeat in range(repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            seconds[name].append(methods[name]())

    print(f"\n## Digests: MB per CPU-second over {len(paths)} files, {megabytes:.0f} MB")
    print(f"(median of {repeats} repeats)\n")
    print("| method | MB/s | % of floor | spread |")
    print("|---|---:|---:|---:|")
    floor_rate = megabytes / statistics.median(seconds[names[0]])
    for name in names:
        rate = megabytes / statistics.median(seconds[name])
        print(f"| {name} | {rate:.0f} | {rate / floor_rate:.0%} | {spread(seconds[name])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-class", type=int, default=8, help="images per size class")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--digest-per-class", type=int, default=30)
    parser.add_argument("--digest-repeats", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=photo_corpus.DEFAULT_CACHE)
    args = parser.parse_args()

    started = time.perf_counter()
    files = photo_corpus.corpus(args.per_class, args.cache)
    digest_files = [
        p
        for paths in photo_corpus.corpus(args.digest_per_class, args.cache).values()
        for p in paths
    ]
    for path in digest_files:  # warm the page cache
        path.read_bytes()
    mismatches = [
        path
        for paths in files.values()
        for path in paths
        if hash_file(path, REFERENCE).pdq != PdqSignal.hash_from_file(path)
    ]
    sizes = {s: statistics.median(p.stat().st_size for p in ps) / 1e6 for s, ps in files.items()}
    print(f"corpus: {args.per_class} JPEGs per class; median file MB {sizes}")
    print(
        f"reference mode equals threatexchange on {sum(map(len, files.values())) - len(mismatches)}"
        f" of {sum(map(len, files.values()))} images"
    )
    bench_images(files, args.repeats)
    bench_digests(digest_files, args.digest_repeats)
    print(f"\nelapsed {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
