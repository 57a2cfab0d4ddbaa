"""Throughput of `safeguard scan` against `safeguard hash` and `hashdeep -r` on the same files.

Generates a folder exhibit of benign pictures, text and some larger binary files, and a FAT
disk image holding the same files (mkfs.vfat + mtools), then times, as a user would run them:

* ``safeguard scan FOLDER`` and ``safeguard scan DISK.img`` (fresh database each time),
* ``safeguard hash --json FOLDER`` (the same digests and PDQ, no matching, no recording),
* ``hashdeep -r -c md5,sha1,sha256 FOLDER`` (cryptographic digests only, C, threaded),

and in-process (no interpreter start-up): `TriageService.scan` vs `hash_paths`.

Usage::

    uv run --no-sync python benchmarks/triage/bench_scan.py --files 1000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from safeguard.services.demo.pictures import encode, synthetic_photo

SECTOR = 512
PARTITION_START = 2048


def build_folder(root: Path, files: int, big_files: int, big_mib: int) -> tuple[int, int]:
    """Write the folder exhibit; returns (file count, total bytes)."""
    count = total = 0
    for i in range(files):
        folder = root / f"DIR{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        if i % 4 == 3:
            data = (f"line {i}\n" * (50 + i % 400)).encode()
            name = f"N{i:05d}.TXT"
        else:
            data = encode(synthetic_photo(i, 320, 240), quality=85)
            name = f"P{i:05d}.JPG"
        (folder / name).write_bytes(data)
        count, total = count + 1, total + len(data)
    rng = __import__("random").Random(7)
    for i in range(big_files):
        data = rng.randbytes(big_mib * 1024 * 1024)
        (root / "BIG").mkdir(exist_ok=True)
        (root / "BIG" / f"B{i:03d}.BIN").write_bytes(data)
        count, total = count + 1, total + len(data)
    return count, total


def build_fat_image(image: Path, root: Path, total_bytes: int) -> None:
    """A FAT32 partition behind an MBR holding every file of `root` (no mounting)."""
    size = max(64, int(total_bytes * 1.6 / 2**20) + 32) * 2**20
    sectors = size // SECTOR - PARTITION_START
    entry = bytes([0x00, 0, 0, 0, 0x0C, 0, 0, 0]) + struct.pack("<II", PARTITION_START, sectors)
    mbr = bytearray(SECTOR)
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    with image.open("wb") as handle:
        handle.write(bytes(mbr))
        handle.truncate(size)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("mkfs.vfat", "-F", "32", "--offset", str(PARTITION_START), str(image), str(sectors // 2))
    target = f"{image}@@{PARTITION_START * SECTOR}"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        run("mmd", "-i", target, f"::/{folder.name}")
        members = sorted(str(p) for p in folder.iterdir())
        for start in range(0, len(members), 200):
            run("mcopy", "-i", target, *members[start : start + 200], f"::/{folder.name}/")


def warm_up_commands(safeguard: list[str], env: dict[str, str], folder: Path) -> None:
    """Run each command once, untimed, on a one-file folder so the bytecode cache is full."""
    exhibit = folder / "exhibit"
    exhibit.mkdir(parents=True, exist_ok=True)
    (exhibit / "a.jpg").write_bytes(encode(synthetic_photo(1, 64, 48)))
    env = dict(env, SAFEGUARD_DATA_DIR=str(folder / "data"))
    env.pop("SAFEGUARD_DB", None)
    for command in (
        ["case", "new", "--number", "WARM", "--examiner", "bench"],
        ["scan", str(exhibit), "--case", "WARM", "--json"],
        ["hash", "--json", str(exhibit)],
    ):
        subprocess.run([*safeguard, *command], check=True, env=env, capture_output=True)


def timed(label: str, command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    print(f"  {label:<34} {elapsed:7.2f} s", flush=True)
    return elapsed


def in_process(root: Path, workers: int, data_dir: Path, rounds: int) -> list[tuple[float, float]]:
    """(scan, hash) seconds per round: `TriageService.scan` and `hash_paths`, no start-up.

    The process pool's fork server is started (untimed) before the first round, so neither
    side pays it; the first round's scan pays loading the list index (numba, JIT cache),
    later rounds find it loaded, as a second scan in a long-lived process would.
    """
    from safeguard.bootstrap import build_services
    from safeguard.services.examiner.triage import ScanOptions
    from safeguard.services.hashing import hash_paths
    from safeguard.settings import Settings

    services = build_services(Settings(data_dir=data_dir, workers=workers))
    services.case_service.new_case("BENCH-IP", "bench")
    options = ScanOptions(workers=workers, hash_options=services.hash_options)
    first = next(p for p in root.rglob("*") if p.is_file())
    for _ in hash_paths([first], services.hash_options, services.batch_runner(workers)):
        pass
    timings = []
    for number in range(rounds):
        started = time.perf_counter()
        services.triage_service.scan(
            root, "BENCH-IP", exhibit_reference=f"R{number}", options=options
        )
        scan_s = time.perf_counter() - started
        started = time.perf_counter()
        for _ in hash_paths([root], services.hash_options, services.batch_runner(workers)):
            pass
        timings.append((scan_s, time.perf_counter() - started))
    services.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--big-files", type=int, default=8)
    parser.add_argument("--big-mib", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="Keep the generated data here.")
    parser.add_argument("--rounds", type=int, default=2, help="In-process rounds (default 2).")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="Run the commands with the caller's environment as is (by default they get a "
        "private bytecode cache, as an installed package has, even where "
        "PYTHONDONTWRITEBYTECODE is set).",
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scan-"))
    root = work / "exhibit"
    if root.exists():
        shutil.rmtree(root)
    count, total = build_folder(root, args.files, args.big_files, args.big_mib)
    mib = total / 2**20
    print(
        f"folder exhibit: {count} files, {mib:.1f} MiB; workers {args.workers}; cpus {os.cpu_count()}"
    )
    image = work / "exhibit.img"
    have_fat = all(shutil.which(t) for t in ("mkfs.vfat", "mcopy", "mmd"))
    if have_fat:
        build_fat_image(image, root, total)
    safeguard = [sys.executable, "-m", "safeguard"]
    w = str(args.workers)
    base_env = dict(os.environ)
    if not args.no_bytecode_cache:
        # Without bytecode every command compiles every module it imports (about a second).
        base_env.pop("PYTHONDONTWRITEBYTECODE", None)
        base_env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        sys.dont_write_bytecode = False
        sys.pycache_prefix = base_env["PYTHONPYCACHEPREFIX"]
        warm_up_commands(safeguard, base_env, work / "warm-up")

    def fresh_env(name: str) -> dict[str, str]:
        env = dict(base_env, SAFEGUARD_DATA_DIR=str(work / name))
        env.pop("SAFEGUARD_DB", None)
        shutil.rmtree(work / name, ignore_errors=True)
        subprocess.run(
            [*safeguard, "case", "new", "--number", "BENCH", "--examiner", "bench"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        return env

    rows: list[tuple[str, float]] = []
    measure: list[tuple[str, Callable[[], float]]] = [
        (
            "safeguard scan (folder)",
            lambda: timed(
                "safeguard scan FOLDER",
                [*safeguard, "scan", str(root), "--case", "BENCH", "--workers", w, "--json"],
                fresh_env("db-folder"),
            ),
        ),
        (
            "safeguard hash (folder)",
            lambda: timed(
                "safeguard hash --json FOLDER",
                [*safeguard, "hash", "--json", "--workers", w, str(root)],
                base_env,
            ),
        ),
    ]
    if shutil.which("hashdeep"):
        measure.append(
            (
                "hashdeep -r (folder)",
                lambda: timed(
                    "hashdeep -r (md5,sha1,sha256)",
                    ["hashdeep", "-r", "-j", w, "-c", "md5,sha1,sha256", str(root)],
                    dict(os.environ),
                ),
            )
        )
    if have_fat:
        measure.append(
            (
                "safeguard scan (FAT image)",
                lambda: timed(
                    "safeguard scan DISK.img",
                    [*safeguard, "scan", str(image), "--case", "BENCH", "--workers", w, "--json"],
                    fresh_env("db-image"),
                ),
            )
        )
    print("end to end (wall time, interpreter start-up included):")
    for label, run in measure:
        rows.append((label, run()))
    print("\n| run | seconds | files/s | MB/s |\n| --- | ---: | ---: | ---: |")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {count / seconds:.0f} | {total / 1e6 / seconds:.1f} |")
    base = dict(rows)
    if "safeguard hash (folder)" in base:
        print(
            f"\nscan/hash time ratio (folder): {base['safeguard scan (folder)'] / base['safeguard hash (folder)']:.2f}"
        )
    if "hashdeep -r (folder)" in base:
        print(
            f"scan/hashdeep time ratio (folder): {base['safeguard scan (folder)'] / base['hashdeep -r (folder)']:.2f}"
        )
    if "safeguard scan (FAT image)" in base:
        print(
            f"image/folder scan time ratio: {base['safeguard scan (FAT image)'] / base['safeguard scan (folder)']:.2f}"
        )
    print()
    for number, (scan_s, hash_s) in enumerate(
        in_process(root, args.workers, work / "db-inproc", args.rounds), start=1
    ):
        print(
            f"in process, round {number}: TriageService.scan {scan_s:.2f} s "
            f"({count / scan_s:.0f} files/s), hash_paths {hash_s:.2f} s "
            f"({count / hash_s:.0f} files/s), ratio {scan_s / hash_s:.2f}"
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
