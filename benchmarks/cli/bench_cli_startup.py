"""The CLI as a user meets it: start-up, one small JPEG, and `hash --workers` scaling.

Not a timed test: run it by hand. Measures, with bytecode cached (the script compiles it
first, as an installed package has it) and the disk cache warm:

* ``safeguard --help``: wall and CPU time (median of 7 runs);
* ``safeguard hash ONE.jpg`` for one small (640x480) JPEG: wall and CPU (median of 5);
* ``safeguard hash --workers 1`` and ``--workers 2`` over equal thirds of 12 MP, 2 MP and
  0.3 MP JPEGs (`benchmarks.hashing.photo_corpus`), beyond start-up: the time for N images
  minus the time for one image, per image; beside threatexchange's PDQ path
  (``PdqSignal.hash_from_file``) on the same files in this process, in the same run.

The machine may be shared: CPU-time figures and same-run ratios are what to read. The
``--workers 2`` ratio needs two idle cores to mean anything; the load average is printed.

Usage (from the repository root):

    uv run --no-sync python benchmarks/cli/bench_cli_startup.py [--per-class 12]
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from safeguard.services.demo.pictures import synthetic_photo, write_photo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hashing"))
from photo_corpus import corpus

SAFEGUARD = str(Path(sys.executable).with_name("safeguard"))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of ``safeguard ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([SAFEGUARD, *args], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _pair_wall(halves: list[Path], env: dict[str, str]) -> float:
    """Wall seconds of two ``safeguard hash --workers 1`` commands run at once, one per half."""
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [SAFEGUARD, "hash", "--workers", "1", "--json", str(half)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for half in halves
    ]
    for process in running:
        if process.wait() != 0:
            raise RuntimeError("safeguard hash failed")
    return time.perf_counter() - started


def median_of(count: int, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    runs = [run(args, env) for _ in range(count)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=12, help="images of each size class")
    args = parser.parse_args()
    # Bytecode as an installed package has it (this machine's shell sets
    # PYTHONDONTWRITEBYTECODE, which would make every start compile from source).
    for folder in {sysconfig.get_paths()["purelib"], str(Path("src").resolve())}:
        compileall.compile_dir(folder, quiet=2, workers=2)
    env = _env()
    with tempfile.TemporaryDirectory(prefix="sg-bench-start-") as tmp:
        env["SAFEGUARD_DATA_DIR"] = str(Path(tmp) / "data")
        small = write_photo(Path(tmp) / "small.jpg", seed=3)
        synthetic_photo(3)  # the demo data module is warm too
        run(["hash", str(small)], env)  # numba cache, page cache
        help_wall, help_cpu = median_of(7, ["--help"], env)
        one_wall, one_cpu = median_of(5, ["hash", str(small)], env)
        print(f"safeguard --help: {help_wall:.3f} s wall, {help_cpu:.3f} s CPU (median of 7)")
        print(
            f"safeguard hash one 640x480 JPEG: {one_wall:.3f} s wall, {one_cpu:.3f} s CPU (median of 5)"
        )

        files = corpus(args.per_class)
        paths = [p for size in ("L", "M", "S") for p in files[size][: args.per_class]]
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        for path in paths:
            # Copies: `safeguard hash` records links and never follows them (evidence rule).
            shutil.copyfile(path, folder / path.name)
        rates: dict[int, tuple[float, float]] = {}
        for workers in (1, 2):
            # Start-up is the same command on as many small images as workers, so that the
            # pool (and its fork server) starts in both runs: the difference is the work.
            base = Path(tmp) / f"base-{workers}"
            base.mkdir()
            for path in paths[-workers:]:
                shutil.copyfile(path, base / path.name)
            # Medians of three: one run's start-up varies by seconds on a shared machine.
            base_wall, base_cpu = median_of(
                3, ["hash", "--workers", str(workers), "--json", str(base)], env
            )
            wall, cpu = median_of(
                3, ["hash", "--workers", str(workers), "--json", str(folder)], env
            )
            extra = len(paths) - workers
            rates[workers] = (
                extra / max(wall - base_wall, 1e-9),
                extra / max(cpu - base_cpu, 1e-9),
            )
            if workers == 1:
                cpu_text = f"{rates[1][1]:.1f} per CPU-second"
            else:
                # Pool workers are children of the fork server, which outlives the command,
                # so their CPU time never reaches this process's rusage: wall time only.
                cpu_text = "CPU not measurable from here (workers run under the fork server)"
            print(
                f"safeguard hash --workers {workers}, {len(paths)} images beyond start-up: "
                f"{rates[workers][0]:.1f} images/s wall, {cpu_text}"
            )
        # The machine's own ceiling for two processes: two independent `--workers 1`
        # commands, each on half of the files, at once. If `--workers 2` reaches what they
        # reach, the pool costs nothing and the rest is the machine (shared caches,
        # memory bandwidth, vCPUs that are not whole cores).
        halves = [Path(tmp) / "half-0", Path(tmp) / "half-1"]
        for index, half in enumerate(halves):
            half.mkdir()
            for path in paths[index::2]:
                shutil.copyfile(path, half / path.name)
        one_wall = median_of(3, ["hash", "--workers", "1", "--json", str(folder)], env)[0]
        pool_wall = median_of(3, ["hash", "--workers", "2", "--json", str(folder)], env)[0]
        pair_wall = statistics.median(_pair_wall(halves, env) for _ in range(3))
        print(
            f"start-up included: --workers 1 {one_wall:.2f} s, --workers 2 {pool_wall:.2f} s, "
            f"two --workers 1 commands on halves at once {pair_wall:.2f} s: the pool gives "
            f"{one_wall / pool_wall:.2f}x, two independent processes {one_wall / pair_wall:.2f}x"
        )
        from threatexchange.signal_type.pdq.signal import PdqSignal

        PdqSignal.hash_from_file(paths[-1])
        started, cpu0 = time.perf_counter(), time.process_time()
        for path in paths:
            PdqSignal.hash_from_file(path)
        te_wall = len(paths) / (time.perf_counter() - started)
        te_cpu = len(paths) / (time.process_time() - cpu0)
        print(
            f"threatexchange PdqSignal.hash_from_file, same files, in process: {te_wall:.1f}/s wall, {te_cpu:.1f} per CPU-second"
        )
        print(
            f"ratio --workers 1 / threatexchange: {rates[1][0] / te_wall:.1f}x wall, "
            f"{rates[1][1] / te_cpu:.1f}x per CPU-second; --workers 2 / --workers 1 (wall): "
            f"{rates[2][0] / rates[1][0]:.2f}x"
        )
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 vCPUs, shared)")


if __name__ == "__main__":
    main()
