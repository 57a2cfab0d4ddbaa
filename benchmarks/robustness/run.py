"""Robustness benchmark: which edited copies of known pictures are found, at what cost.

Run from the repository root:

    uv run --no-sync python -m benchmarks.robustness.run [--large 4000] [--out docs/robustness.md]

Everything is benign and seeded: known originals and distinct pictures come from
`benchmarks.robustness.datasets`, edits from `benchmarks.robustness.edits`. Methods compared
in the same run, each on the same decoded queries:

* ``reference-pdq``: ``pdqhash.compute`` on the full pixels, threshold 31.
* ``safeguard-lists``: what Safeguard can do with PDQ hashes alone: the eight dihedral
  variants plus query-side recovery (`safeguard.hashing.recovery.query_hashes`), threshold
  31 for every variant, with the quality and low-information guards.
* ``safeguard-augmented``: the list's keeper published augmentation hashes with it
  (`safeguard.hashing.augmentation`: stored crops, turns and landmark windows); a query
  hash within 31 bits of any of them matches. No originals, no ORB.
* ``safeguard-originals``: the originals are held: the list also stores augmentation hashes
  (`safeguard.hashing.augmentation`); a candidate within 31 bits matches, and one within
  the wide threshold matches only if ORB keypoints confirm it
  (`safeguard.matching.local_features`).
* ``perception-pdq`` and ``perception-phash16``: Thorn's ``perception`` hashers, at their
  usual deduplication threshold (0.2 of the bits) and at the largest threshold with no
  false match among the distinct pictures.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import warnings
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pdqhash
from benchmarks.robustness import datasets
from benchmarks.robustness.edits import COMBINED_EDITS, SINGLE_EDITS
from PIL import Image

from safeguard.hashing.augmentation import augmentation_hashes
from safeguard.hashing.recovery import query_hashes
from safeguard.matching.local_features import (
    LocalFeatures,
    confirm_features,
    local_features,
    mirror_for_variant,
)
from safeguard.services.examiner.robust_matching import WIDE_PDQ_THRESHOLD

THRESHOLD = 31
WIDE_THRESHOLD = WIDE_PDQ_THRESHOLD
PERCEPTION_DEFAULT = 51  # 0.2 of 256 bits, perception's recommended deduplication threshold
ORB_CANDIDATES = 2
LARGE_THRESHOLDS = (31, 40, 48, 56, 64)


def codes(hex_values: list[str]) -> np.ndarray:
    if not hex_values:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hex_values), dtype=np.uint8)
    return raw.reshape(-1, 32).view(">u8").astype(np.uint64)


def distances(queries: np.ndarray, entries: np.ndarray) -> np.ndarray:
    """Hamming distances, queries x entries (uint64[., 4] each)."""
    if len(queries) == 0 or len(entries) == 0:
        return np.full((len(queries), len(entries)), 256, dtype=np.int32)
    xor = queries[:, None, :] ^ entries[None, :, :]
    return np.bitwise_count(xor).sum(axis=2).astype(np.int32)


def bits_code(bits: np.ndarray) -> np.ndarray:
    return np.packbits(bits.astype(np.uint8)).view(">u8").astype(np.uint64).reshape(1, 4)


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@dataclass
class KnownList:
    """The known originals as each method stores them."""

    names: list[str]
    plain: np.ndarray  # reference PDQ, one per original
    held: np.ndarray  # originals plus augmentation hashes
    held_owner: np.ndarray
    held_label: list[str]
    features: dict[int, object] = field(default_factory=dict)
    pixels: dict[int, np.ndarray] = field(default_factory=dict)


def build_known(originals: dict[str, Image.Image]) -> KnownList:
    names, plain, held, owner, labels = [], [], [], [], []
    pixels: dict[int, np.ndarray] = {}
    for index, (name, image) in enumerate(originals.items()):
        rgb = np.asarray(image)
        pixels[index] = rgb
        names.append(name)
        bits, _ = pdqhash.compute(rgb)
        plain.append(bits_code(bits))
        hexes = [np.packbits(bits.astype(np.uint8)).tobytes().hex()]
        hexes += [a.pdq for a in augmentation_hashes(rgb)]
        labels += ["original"] + [a.label for a in augmentation_hashes(rgb)]
        held.append(codes(hexes))
        owner += [index] * len(hexes)
    return KnownList(
        names, np.vstack(plain), np.vstack(held), np.array(owner), labels, pixels=pixels
    )


@dataclass
class QueryResult:
    """Per method: distance to each original (best variant) and the verdict set."""

    plain: np.ndarray  # [n_originals]
    lists: np.ndarray
    lists_label: list[str]
    held_direct: np.ndarray
    held_matches: set[int]
    held_orb: list[tuple[int, int, bool]]
    perception: dict[str, np.ndarray]


class Methods:
    def __init__(self, known: KnownList, originals: dict[str, Image.Image]) -> None:
        import perception.hashers as hashers

        self.known = known
        self.hashers = {
            "perception-pdq": hashers.PDQHash(),
            "perception-phash16": hashers.PHash(hash_size=16),
        }
        self.perception_known = {
            name: np.vstack(
                [
                    bits_code(h.compute(np.asarray(img), hash_format="vector"))
                    for img in originals.values()
                ]
            )
            for name, h in self.hashers.items()
        }
        self.n = len(known.names)
        self.orb_seconds = 0.0
        self.orb_calls = 0

    def owner_min(self, dist: np.ndarray, owner: np.ndarray) -> np.ndarray:
        best = np.full(self.n, 256, dtype=np.int32)
        np.minimum.at(best, owner, dist)
        return best

    def run(self, rgb: np.ndarray) -> QueryResult:
        bits, _ = pdqhash.compute(rgb)
        plain = distances(bits_code(bits), self.known.plain)[0]
        labelled = query_hashes(rgb)
        qcodes = codes([h for _, h in labelled])
        lists_dist = distances(qcodes, self.known.plain)  # variants x originals
        if len(labelled):
            lists = lists_dist.min(axis=0)
            lists_label = [labelled[i][0] for i in lists_dist.argmin(axis=0)]
        else:
            lists, lists_label = np.full(self.n, 256, dtype=np.int32), ["-"] * self.n
        held_dist = distances(qcodes, self.known.held)  # variants x entries
        if len(labelled):
            per_entry = held_dist.min(axis=0)
            held = self.owner_min(per_entry, self.known.held_owner)
        else:
            held = np.full(self.n, 256, dtype=np.int32)
        matches = {int(i) for i in np.flatnonzero(held <= THRESHOLD)}
        orb: list[tuple[int, int, bool]] = []
        wide = [int(i) for i in np.argsort(held) if THRESHOLD < held[i] <= WIDE_THRESHOLD]
        query_features: dict[bool, LocalFeatures] = {}
        for index in wide[:ORB_CANDIDATES]:
            entry_rows = np.flatnonzero(self.known.held_owner == index)
            variant_row = int(held_dist[:, entry_rows].min(axis=1).argmin())
            started = time.perf_counter()
            # "trimmed+flip_y": the dihedral part of a recovered label says how to turn back.
            oriented = mirror_for_variant(rgb, labelled[variant_row][0].split("+")[-1])
            mirrored = oriented is not rgb
            if mirrored not in query_features:
                query_features[mirrored] = local_features(oriented)
            if index not in self.known.features:
                self.known.features[index] = local_features(self.known.pixels[index])
            verdict = confirm_features(query_features[mirrored], self.known.features[index])  # type: ignore[arg-type]
            self.orb_seconds += time.perf_counter() - started
            self.orb_calls += 1
            orb.append((index, int(held[index]), verdict.confirmed))
            if verdict.confirmed:
                matches.add(index)
        perception = {}
        for name, hasher in self.hashers.items():
            vector = hasher.compute(rgb, hash_format="vector")
            perception[name] = distances(bits_code(vector), self.perception_known[name])[0]
        return QueryResult(plain, lists, lists_label, held, matches, orb, perception)


def make_queries(
    pictures: dict[str, Image.Image], edits: dict[str, object]
) -> list[tuple[str, str, bytes]]:
    out = []
    for edit_name, edit in edits.items():
        for name, image in pictures.items():
            rng = random.Random(zlib.crc32(f"{edit_name}/{name}".encode()))
            out.append((edit_name, name, edit(image, rng)))  # type: ignore[operator]
    return out


def recall_table(
    rows: list[tuple[str, int, QueryResult]], thresholds: dict[str, int]
) -> tuple[list[str], dict[str, float]]:
    by_edit: dict[str, list[tuple[int, QueryResult]]] = defaultdict(list)
    for edit, index, result in rows:
        by_edit[edit].append((index, result))
    methods = list(METHODS)
    lines = ["| edit | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    totals: dict[str, list[float]] = defaultdict(list)
    for edit, items in by_edit.items():
        cells = []
        for method in methods:
            hits = [found(method, index, r, thresholds) for index, r in items]
            share = float(np.mean(hits))
            totals[method].append(share)
            cells.append(f"{share:.2f}")
        lines.append(f"| {edit} | " + " | ".join(cells) + " |")
    overall = {m: float(np.mean(v)) for m, v in totals.items()}
    lines.append("| **overall** | " + " | ".join(f"**{overall[m]:.3f}**" for m in methods) + " |")
    return lines, overall


METHODS = (
    "reference-pdq",
    "safeguard-lists",
    "safeguard-augmented",
    "safeguard-originals",
    "perception-pdq",
    "perception-phash16",
)


def found(method: str, index: int, r: QueryResult, thresholds: dict[str, int]) -> bool:
    if method == "reference-pdq":
        return bool(r.plain[index] <= thresholds[method])
    if method == "safeguard-lists":
        return bool(r.lists[index] <= thresholds[method])
    if method == "safeguard-augmented":
        return bool(r.held_direct[index] <= THRESHOLD)
    if method == "safeguard-originals":
        return index in r.held_matches
    return bool(r.perception[method][index] <= thresholds[method])


def false_matches(
    method: str, r: QueryResult, thresholds: dict[str, int], exclude: int | None
) -> int:
    """Originals other than `exclude` the query would be reported as matching."""
    n = len(r.plain)
    return sum(1 for i in range(n) if i != exclude and found(method, i, r, thresholds))


NOTES_MARKER = "<!-- notes: kept when the benchmark rewrites this file -->"


def write_report(path: Path, report: list[str], argv: list[str] | None, seconds: float) -> None:
    """Write the results under a header naming the command; keep hand-written notes below."""
    notes = ""
    if path.exists() and NOTES_MARKER in path.read_text():
        notes = path.read_text().split(NOTES_MARKER, 1)[1]
    options = " ".join(sys.argv[1:] if argv is None else argv)
    header = [
        "# Robustness: finding edited copies of known pictures",
        "",
        "Made by (seeded; benign pictures only; this run took "
        f"{seconds / 60:.0f} minutes on {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end):",
        "",
        "```sh",
        f"uv run --no-sync python -m benchmarks.robustness.run {options}".rstrip(),
        "```",
        "",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "See `benchmarks/robustness/README.md` for the pictures, edits and methods.",
        "",
        "## Results",
        "",
    ]
    path.write_text("\n".join(header + report) + "\n\n" + NOTES_MARKER + notes.rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=3000, help="size of the large distinct set")
    parser.add_argument(
        "--extra-known",
        type=int,
        default=178,
        help="extra generated originals for the large-set false-match rate",
    )
    parser.add_argument("--speed-queries", type=int, default=200)
    parser.add_argument(
        "--limit",
        type=int,
        default=0,
        help="use only this many known and distinct pictures (smoke test)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="also write the report (Markdown) here"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    report: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        report.append(line)

    originals = datasets.known_originals()
    distinct = datasets.distinct_pictures()
    if args.limit:
        originals = dict(list(originals.items())[: args.limit])
        distinct = dict(list(distinct.items())[: args.limit])
    known = build_known(originals)
    methods = Methods(known, originals)
    edits = {**SINGLE_EDITS, **COMBINED_EDITS}
    known_queries = make_queries(originals, edits)
    distinct_queries = make_queries(distinct, edits)
    print(
        f"{len(originals)} known, {len(distinct)} distinct, {len(edits)} edits: "
        f"{len(known_queries)} + {len(distinct_queries)} queries",
        file=sys.stderr,
    )
    name_index = {name: i for i, name in enumerate(known.names)}
    known_rows = [(e, name_index[n], methods.run(decode(data))) for e, n, data in known_queries]
    distinct_rows = [(e, -1, methods.run(decode(data))) for e, n, data in distinct_queries]
    print(f"queries done at {time.perf_counter() - started:.0f} s", file=sys.stderr)

    # Largest threshold with no false match among distinct queries (and wrong-original hits).
    zero_fp: dict[str, int] = {}
    for method, values in (
        ("reference-pdq", [r.plain for _, _, r in distinct_rows]),
        ("safeguard-lists", [r.lists for _, _, r in distinct_rows]),
        ("perception-pdq", [r.perception["perception-pdq"] for _, _, r in distinct_rows]),
        ("perception-phash16", [r.perception["perception-phash16"] for _, _, r in distinct_rows]),
    ):
        zero_fp[method] = int(np.min(np.vstack(values))) - 1
    defaults = {
        "reference-pdq": THRESHOLD,
        "safeguard-lists": THRESHOLD,
        "perception-pdq": PERCEPTION_DEFAULT,
        "perception-phash16": PERCEPTION_DEFAULT,
    }
    at_zero = dict(zero_fp)

    say(
        f"Known originals: {len(originals)}; distinct pictures: {len(distinct)}; edits: "
        f"{len(SINGLE_EDITS)} single + {len(COMBINED_EDITS)} combined; "
        f"{len(known_queries)} known and {len(distinct_queries)} distinct queries."
    )
    say()
    say(
        "Thresholds (bits of 256). Default: reference PDQ and Safeguard 31; perception 51 (0.2). "
        "Largest with no false match among the distinct queries: "
        + ", ".join(f"{m} {t}" for m, t in zero_fp.items())
        + "."
    )
    singles = [row for row in known_rows if row[0] in SINGLE_EDITS]
    combos = [row for row in known_rows if row[0] in COMBINED_EDITS]
    for title, thresholds in (
        ("at default thresholds", defaults),
        (
            "at the largest threshold with no false match among the distinct queries "
            "(tuned on them, so optimistic)",
            at_zero,
        ),
    ):
        say()
        say(f"### Recall per edit, {title}")
        say()
        thresholds = {**thresholds}
        lines, overall = recall_table(singles, thresholds)
        for line in lines:
            say(line)
        say()
        lines, overall_c = recall_table(combos, thresholds)
        for line in lines:
            say(line)
        say()
        say(
            "False matches (distinct query reported as a known original, plus known queries "
            "reported as the wrong original), out of "
            f"{len(distinct_rows)} distinct and {len(known_rows)} known queries:"
        )
        say()
        say(
            "| method | threshold | single-edit recall | combined-edit recall | false matches (distinct) | wrong original (known) |"
        )
        say("|---|---:|---:|---:|---:|---:|")
        for method in METHODS:
            fp = sum(false_matches(method, r, thresholds, None) for _, _, r in distinct_rows)
            wrong = sum(false_matches(method, r, thresholds, i) for _, i, r in known_rows)
            t = {
                "safeguard-originals": f"{THRESHOLD} (+ORB to {WIDE_THRESHOLD})",
                "safeguard-augmented": str(THRESHOLD),
            }.get(method) or str(thresholds[method])
            say(
                f"| {method} | {t} | {overall[method]:.3f} | {overall_c[method]:.3f} | {fp} | {wrong} |"
            )

    # A per-list threshold trades recall for safety: show the curve for PDQ lists alone.
    say()
    say("### Recall against threshold, PDQ lists alone (per-list threshold)")
    say()
    say(
        "| threshold | reference-pdq single | safeguard-lists single | safeguard-lists combined | false matches (distinct) |"
    )
    say("|---:|---:|---:|---:|---:|")
    for t in LARGE_THRESHOLDS:
        sweep = {"reference-pdq": t, "safeguard-lists": t}
        _, single_t = recall_table(singles, {**defaults, **sweep})
        _, combined_t = recall_table(combos, {**defaults, **sweep})
        fp_t = sum(false_matches("safeguard-lists", r, sweep, None) for _, _, r in distinct_rows)
        say(
            f"| {t} | {single_t['reference-pdq']:.3f} | {single_t['safeguard-lists']:.3f} | "
            f"{combined_t['safeguard-lists']:.3f} | {fp_t} |"
        )

    # ORB second stage: how often it ran and what it decided.
    orb_known = [(i, v) for _, i, r in known_rows for (j, d, v) in r.held_orb if j == i]
    orb_wrong = [v for _, i, r in known_rows for (j, d, v) in r.held_orb if j != i]
    orb_distinct = [v for _, _, r in distinct_rows for (j, d, v) in r.held_orb]
    say()
    say(
        f"ORB second stage (candidates {THRESHOLD} < d <= {WIDE_THRESHOLD}, at most {ORB_CANDIDATES} per query): "
        f"{len(orb_known)} true candidates, {sum(v for _, v in orb_known)} confirmed; "
        f"{len(orb_wrong) + len(orb_distinct)} false candidates, {sum(orb_wrong) + sum(orb_distinct)} confirmed; "
        f"{methods.orb_seconds / max(1, methods.orb_calls) * 1000:.1f} ms per check."
    )

    # Large distinct set: false-match rate per (picture, original) pair at default settings.
    say()
    say("### False-match rate on the large distinct set")
    extra = {
        f"extra-{s}": datasets.synthetic_photo(2000 + s, 640, 480) for s in range(args.extra_known)
    }
    big_known = build_known({**originals, **extra})
    big_methods = Methods.__new__(Methods)
    big_methods.known, big_methods.n = big_known, len(big_known.names)
    big_methods.orb_seconds, big_methods.orb_calls = 0.0, 0
    big_methods.hashers, big_methods.perception_known = {}, {}
    large = datasets.large_distinct_set(args.large)
    counts: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    no_hash = 0
    closest = 256
    for kind, rgb in large:
        kinds[kind] += 1
        r = big_methods.run(rgb)
        counts["reference-pdq"] += int((r.plain <= THRESHOLD).sum())
        counts["safeguard-lists"] += int((r.lists <= THRESHOLD).sum())
        for t in LARGE_THRESHOLDS[1:]:
            counts[f"reference-pdq@{t}"] += int((r.plain <= t).sum())
            counts[f"safeguard-lists@{t}"] += int((r.lists <= t).sum())
        counts["safeguard-augmented"] += int((r.held_direct <= THRESHOLD).sum())
        counts["safeguard-originals"] += len(r.held_matches)
        counts["orb-checks"] += len(r.held_orb)
        closest = min(closest, int(r.lists.min()))
        no_hash += int(r.lists.min() == 256)
    pairs = len(large) * len(big_known.names)
    say()
    say(
        f"{len(large)} distinct pictures ({', '.join(f'{v} {k}' for k, v in kinds.items())}) x "
        f"{len(big_known.names)} known originals = {pairs:,} pairs; "
        f"{no_hash} pictures refused as low quality or low information; "
        f"closest safeguard-lists distance {closest}; {counts['orb-checks']} ORB checks."
    )
    say()
    say("| method | false matches | rate per pair |")
    say("|---|---:|---:|")
    for method in (
        "reference-pdq",
        "safeguard-lists",
        "safeguard-augmented",
        "safeguard-originals",
    ):
        say(f"| {method} (default settings) | {counts[method]} | {counts[method] / pairs:.2e} |")
    for t in LARGE_THRESHOLDS[1:]:
        for method in ("reference-pdq", "safeguard-lists"):
            key = f"{method}@{t}"
            say(f"| {method} at threshold {t} | {counts[key]} | {counts[key] / pairs:.2e} |")
    say()
    say(
        "safeguard-augmented counts a pair when a query hash is within 31 bits of the original "
        "or one of the augmentation hashes its list keeper published (`safeguard lists augment`); "
        "safeguard-originals also confirms candidates "
        f"within {WIDE_THRESHOLD} bits with ORB against the held original."
    )

    # Speed: decode + hash + search, plain versus every recovery step.
    say()
    say("### Speed (one process, decode included)")
    sample = random.Random(3).sample(known_queries, min(args.speed_queries, len(known_queries)))
    # CPU time, not wall time: the machine may be shared, and these are one-process figures.
    timings: dict[str, float] = {}
    modes = ("plain", "lists", "lists-every-step", "lists-no-occlusion") * 3

    def matched_plain(found: Sequence[tuple[str, str]]) -> bool:
        return bool(distances(codes([h for _, h in found]), known.plain).min() <= THRESHOLD)

    def hashes_for(rgb: np.ndarray, mode: str) -> tuple[tuple[str, str], ...]:
        # "lists": search the whole picture's hashes first, recover only when they miss
        # (what a matcher does); "lists-every-step": every step on every query, the cost
        # of a query that matches nothing.
        return query_hashes(
            rgb,
            occlusion=mode != "lists-no-occlusion",
            already_matched=matched_plain if mode == "lists" else None,
        )

    for mode in modes:
        t0 = time.process_time()
        for _, _, data in sample:
            rgb = decode(data)
            if mode == "plain":
                bits, _ = pdqhash.compute(rgb)
                distances(bits_code(bits), known.plain)
            else:
                labelled = hashes_for(rgb, mode)
                distances(codes([h for _, h in labelled]), known.plain)
        timings[mode] = min(timings.get(mode, 1e9), time.process_time() - t0)
    hashing_only: dict[str, float] = {}
    decoded = [decode(data) for _, _, data in sample]
    for mode in modes:
        t0 = time.process_time()
        for rgb in decoded:
            if mode == "plain":
                pdqhash.compute(rgb)
            else:
                hashes_for(rgb, mode)
        hashing_only[mode] = min(hashing_only.get(mode, 1e9), time.process_time() - t0)
    n = len(sample)
    say()
    say(
        f"{n} edited queries (the single and combined edits of the known originals, up to 720x1280)."
    )
    say()
    say("| pipeline | queries per CPU-second with decode | hashing only | hashes per query |")
    say("|---|---:|---:|---:|")
    per_query = {
        mode: float(np.mean([len(hashes_for(rgb, mode)) for rgb in decoded[:60]]))
        for mode in modes[1:4]
    }
    say(f"| plain PDQ | {n / timings['plain']:.1f} | {n / hashing_only['plain']:.1f} | 1 |")
    for mode, title in (
        ("lists-no-occlusion", "dihedral + recovery + landmarks, without occlusion, every step"),
        ("lists-every-step", "dihedral + recovery + occlusion + landmarks, every step"),
        ("lists", "the same, recovery only when the whole picture misses (default)"),
    ):
        say(
            f"| {title} | {n / timings[mode]:.1f} | {n / hashing_only[mode]:.1f} | "
            f"{per_query[mode]:.1f} |"
        )
    say()
    say(
        f"Slowdown against plain PDQ, same run: {timings['lists'] / timings['plain']:.2f}x with "
        f"decode and {hashing_only['lists'] / hashing_only['plain']:.2f}x hashing only when "
        "recovery runs only after the whole picture misses; with every step on every query "
        f"(a query that matches nothing) {timings['lists-every-step'] / timings['plain']:.2f}x "
        f"and {hashing_only['lists-every-step'] / hashing_only['plain']:.2f}x (without the "
        f"occlusion step: {timings['lists-no-occlusion'] / timings['plain']:.2f}x and "
        f"{hashing_only['lists-no-occlusion'] / hashing_only['plain']:.2f}x). "
        f"ORB checks add {methods.orb_seconds / max(1, methods.orb_calls) * 1000:.0f} ms each, only for wide candidates."
    )
    say()
    say(f"Total run time {time.perf_counter() - started:.0f} s.")
    if args.out is not None:
        write_report(args.out, report, argv, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
