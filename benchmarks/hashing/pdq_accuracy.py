"""How far is Safeguard's fast PDQ path from the reference, per image size?

For every JPEG of the benign corpus (see `photo_corpus`), computes the reference PDQ
(full-size decode + pdqhash, Safeguard's ``reference`` mode, re-checked bit-exact against
a direct pdqhash call on the first ``--check-exact`` files per class) and the ``fast`` mode hash, and reports the Hamming distance
distribution per size class over hashes of quality >= 80 (the population Meta's PDQ
README uses to call a port correct: within 10 bits). Also evaluates other candidate
reduction floors (``--min-sides``) so the choice of `FAST_MIN_SIDE` can be revisited.

Usage (from the repository root):

    uv run --no-sync python benchmarks/hashing/pdq_accuracy.py [--per-class 60]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pdqhash
import photo_corpus
from PIL import Image

from safeguard.domain.digests import hamming_distance
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pdq import FAST_MIN_SIDE, pdq_of_pixels
from safeguard.hashing.pipeline import hash_file

QUALITY = 80
MATCH_FLOOR = 50


def draft_hash(path: Path, min_side: int) -> str:
    with Image.open(path) as image:
        image.draft(None, (min_side, min_side))
        return pdq_of_pixels(np.asarray(image.convert("RGB")))[0]


def summarise(distances: list[int]) -> str:
    if not distances:
        return "| 0 | - | - | - | - | - | - |"
    ordered = sorted(distances)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    within = sum(d <= 10 for d in ordered) / len(ordered)
    over20 = sum(d > 20 for d in ordered)
    return (
        f"| {len(ordered)} | {statistics.mean(ordered):.1f} | {statistics.median(ordered):g} "
        f"| {p95} | {ordered[-1]} | {within:.1%} | {over20} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--min-sides", default="768,1024", help="other draft floors to try")
    parser.add_argument(
        "--check-exact", type=int, default=5, help="per class, re-check reference vs pdqhash"
    )
    parser.add_argument("--cache", type=Path, default=photo_corpus.DEFAULT_CACHE)
    args = parser.parse_args()
    candidates = [int(x) for x in args.min_sides.split(",") if x]
    files = photo_corpus.corpus(args.per_class, args.cache)

    started = time.perf_counter()
    rows: list[str] = []
    low_quality: dict[str, int] = {}
    checked = 0
    for size, paths in files.items():
        fast: list[int] = []
        fast_50: list[int] = []
        per_candidate: dict[int, list[int]] = {c: [] for c in candidates}
        low_quality[size] = 0
        for index, path in enumerate(paths):
            reference = hash_file(path, HashOptions(pdq_mode="reference"))
            oracle, quality = reference.pdq, reference.pdq_quality
            assert oracle is not None
            assert quality is not None
            if index < args.check_exact:
                with Image.open(path) as image:
                    bits, _ = pdqhash.compute(np.asarray(image.convert("RGB")))
                exact = np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
                assert exact == oracle, f"reference mode not bit-exact on {path}"
                checked += 1
            if quality < MATCH_FLOOR:
                low_quality[size] += 1
                continue
            quick = hash_file(path, HashOptions(pdq_mode="fast"))
            assert quick.pdq is not None
            distance = hamming_distance(quick.pdq, oracle)
            fast_50.append(distance)
            if quality < QUALITY:
                low_quality[size] += 1
                continue
            fast.append(distance)
            for candidate in candidates:
                distance = hamming_distance(draft_hash(path, candidate), oracle)
                per_candidate[candidate].append(distance)
        width, height = photo_corpus.SIZES[size]
        rows.append(
            f"| {size} {width}x{height} | fast (shipped, {FAST_MIN_SIDE}) " + summarise(fast)
        )
        rows.append(f"| {size} | fast, quality >= {MATCH_FLOOR} " + summarise(fast_50))
        for candidate in candidates:
            rows.append(f"| {size} | draft {candidate} " + summarise(per_candidate[candidate]))

    print(f"PDQ fast vs reference, quality >= {QUALITY}; {args.per_class} JPEGs per class")
    print("(distance in bits; 'within 10' is the share at <= 10 bits; '> 20' is a count)\n")
    print("| class | variant | n | mean | median | p95 | max | within 10 | > 20 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print(f"\nexcluded for quality < {QUALITY}: {low_quality}")
    print(f"reference mode bit-exact with pdqhash on all {checked} files checked")
    print(f"elapsed {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
