"""Batch backends on one box: the local process pool against a local Ray.

Hashes the same folder of generated benign JPEGs (stand-ins for exhibit files) with
``hash_paths`` through `LocalPoolRunner` (in-process and a pool) and `RayRunner` (a local
Ray with the same number of CPUs), and prints wall-clock images per second for each,
plus Ray's start-up time, which a one-shot command pays on top. Results are checked to
be identical across backends. Wall-clock, so run it on an otherwise quiet machine.

Usage (from the repository root; needs the ``cluster`` extra):

    uv run --no-sync python benchmarks/batch/bench_backends.py [--images 120] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from safeguard.batch.contract import BatchRunner
from safeguard.batch.local_pool import LocalPoolRunner
from safeguard.batch.ray_cluster import RayRunner
from safeguard.domain.file_hashes import FileHashes
from safeguard.hashing.contract import HashOptions
from safeguard.services.demo.pictures import write_photo
from safeguard.services.hashing import WORKER_MODULES, hash_paths


def timed_run(
    runner: BatchRunner, folder: Path, options: HashOptions
) -> tuple[float, list[FileHashes]]:
    started = time.perf_counter()
    results = list(hash_paths([folder], options, runner))
    return time.perf_counter() - started, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=768)
    args = parser.parse_args()

    options = HashOptions()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for seed in range(args.images):
            write_photo(folder / f"photo_{seed:05d}.jpg", seed, args.width, args.height)
        print(f"{args.images} JPEGs of {args.width}x{args.height}, {args.workers} workers")

        seconds, reference = timed_run(LocalPoolRunner(1), folder, options)
        print(f"local in-process : {args.images / seconds:7.1f} images/s")
        pool = LocalPoolRunner(args.workers, preload=WORKER_MODULES)
        seconds, results = timed_run(pool, folder, options)
        assert results == reference
        print(f"local pool       : {args.images / seconds:7.1f} images/s (pool start included)")

        started = time.perf_counter()
        with RayRunner(workers=args.workers, init_options={"_node_ip_address": "127.0.0.1"}) as ray:
            assert ray.workers == args.workers
            print(f"ray start-up     : {time.perf_counter() - started:7.1f} s")
            seconds, results = timed_run(ray, folder, options)
            assert results == reference
            print(
                f"ray, first run   : {args.images / seconds:7.1f} images/s (worker start included)"
            )
            seconds, results = timed_run(ray, folder, options)
            assert results == reference
            print(f"ray, warm        : {args.images / seconds:7.1f} images/s")


if __name__ == "__main__":
    main()
