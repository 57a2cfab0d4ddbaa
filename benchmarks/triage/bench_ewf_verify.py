"""Cost of checking every EWF chunk against its own checksum during acquisition verification.

Builds a compressible benign raw image (hex words, like text or logs), acquires it with
``ewfacquirestream -c deflate:fast``, then times in the same run, best of ``--repeat``:

* libewf only: read the whole media through pyewf and hash it (MD5 + SHA-1), which is what
  verification did before the per-chunk checks;
* `verify_ewf`: the same, plus every chunk checked by `safeguard.extraction.ewf_chunks`;
* the chunk checks alone.

CPU seconds of this process (libewf and zlib run in it), so a shared machine's load does
not distort the ratio much.

Usage::

    uv run --no-sync python benchmarks/triage/bench_ewf_verify.py --mib 128
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from safeguard.extraction.ewf import _OpenSet, verify_ewf


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _best(repeat: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = _cpu()
        work()
        best = min(best, _cpu() - start)
    return best


def _build(folder: Path, mib: int) -> Path:
    rng = random.Random(1)
    words = [rng.randbytes(rng.randint(2, 12)).hex().encode() for _ in range(5000)]
    raw = folder / "bench.raw"
    with raw.open("wb") as out:
        for _ in range(mib):
            block = bytearray()
            while len(block) < 1 << 20:
                block += rng.choice(words) + b" "
            out.write(bytes(block[: 1 << 20]))
    with raw.open("rb") as source:
        subprocess.run(
            ["ewfacquirestream", "-q", "-t", str(folder / "bench"), "-c", "deflate:fast"],
            stdin=source,
            check=True,
            capture_output=True,
        )
    return folder / "bench.E01"


def _libewf_only(first: Path) -> None:
    opened = _OpenSet(first)
    try:
        md5, sha1 = hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False)
        opened.handle.seek(0)
        while chunk := opened.handle.read(4 << 20):
            md5.update(chunk)
            sha1.update(chunk)
    finally:
        opened.close()


def _chunks_only(first: Path) -> None:
    opened = _OpenSet(first)
    try:
        assert opened.chunks is not None
        for index in range(opened.chunks.chunk_count):
            assert opened.chunks.check(index) is None
    finally:
        opened.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("ewfacquirestream") is None:
        raise SystemExit("needs ewfacquirestream (Debian ewf-tools)")
    with tempfile.TemporaryDirectory() as scratch:
        first = _build(Path(scratch), args.mib)
        size = sum(p.stat().st_size for p in Path(scratch).glob("bench.E*"))
        print(
            f"{args.mib} MiB media, E01 {size / 2**20:.1f} MiB (deflate:fast), cpu s, best of {args.repeat}"
        )
        plain = _best(args.repeat, lambda: _libewf_only(first))
        checked = _best(args.repeat, lambda: verify_ewf(first))
        chunks = _best(args.repeat, lambda: _chunks_only(first))
        print(f"libewf read + MD5/SHA-1 (before): {plain:6.2f}")
        print(f"verify_ewf with chunk checks:     {checked:6.2f}  ({checked / plain:.2f}x)")
        print(f"chunk checks alone:               {chunks:6.2f}")
        print(f"machine load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
