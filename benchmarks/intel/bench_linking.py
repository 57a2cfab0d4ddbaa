"""Intelligence at operation scale: ingest rate, link time, memory, and planted-network recovery.

For each size (default 10,000 and 100,000 referrals) a child process generates a synthetic
operation (`services/demo/intel_operation.py`: planted networks of 3-6 people tied by
shared images, devices, phones, same-hour IPs or unlisted material; a viral image in 20 %
of referrals; a carrier-grade NAT address with per-referral ports), then:

1. ingests it through `IntakeService` into a store (SQLite file by default, ``--store memory``
   for the in-memory fake, or ``--postgres URL``), in batches of 5,000;
2. links everything once (`LinkService.relink`: rarity-weighted, time-windowed IPs);
3. finds networks (our union-find) and, on the same pair graph, networkx's
   ``connected_components`` (the peer), checking both give the same groups;
4. assesses every subject with the shipped rule set;
5. scores the found networks against the planted ones (pairs of people: precision, recall)
   and counts links made by the viral image (must be 0).

It also counts the pairs a correlate-everything approach (MISP-style, no rarity cut) would
store for the same data. Wall and CPU seconds are both printed; on a shared machine read
the CPU columns. Peak RSS is the child's (generation included).

Usage (from the repository root):

    uv run --no-sync python benchmarks/intel/bench_linking.py [--sizes 10000 100000] [--store sqlite]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from typing import Any

BATCH = 5000


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def run_one(size: int, store_kind: str, postgres: str | None) -> dict[str, Any]:
    import networkx as nx

    from safeguard.services.demo.intel_operation import generate_operation, score_recovery
    from safeguard.services.intel.assessments import PriorityService
    from safeguard.services.intel.intake import IntakeService
    from safeguard.services.intel.linking import networks, pair_weights
    from safeguard.services.intel.links import LinkService
    from safeguard.services.intel.subjects import SubjectService
    from safeguard.storage.intel_store import IntelStore

    result: dict[str, Any] = {"size": size, "store": store_kind}
    started = _clock()
    op = generate_operation(size, seed=14)
    result["generate_s"] = _since(started)

    folder = tempfile.TemporaryDirectory(prefix="sg-intel-bench-")
    store: IntelStore
    if store_kind == "memory":
        from safeguard.storage.memory_intel import MemoryIntelStore

        store = MemoryIntelStore()
    else:
        from safeguard.storage.sql.engine import make_engine, upgrade_schema
        from safeguard.storage.sql.intel_store import SqlIntelStore

        url = postgres if store_kind == "postgres" else f"sqlite:///{folder.name}/intel.db"
        assert url is not None
        engine = make_engine(url)
        upgrade_schema(engine)
        store = SqlIntelStore(engine)
    links = LinkService(store)
    priorities = PriorityService(store)
    subjects = SubjectService(store, links, priorities)
    intake = IntakeService(store, subjects)

    started = _clock()
    added = []
    for start in range(0, len(op.referrals), BATCH):
        outcome = intake.ingest(op.referrals[start : start + BATCH], refresh=False)
        added.extend(outcome.added)
    result["ingest_s"] = _since(started)
    result["referrals"] = len(added)

    started = _clock()
    again = intake.ingest(op.referrals[:BATCH], refresh=False)
    result["reingest_batch_s"] = _since(started)
    result["reingest_added"] = len(again.added)

    started = _clock()
    run = links.relink()
    result["link_s"] = _since(started)
    result["links"] = len(run.links)
    result["too_common_keys"] = len(run.too_common)
    result["viral_links"] = sum(1 for link in run.links if link.key == op.viral_key)
    result["viral_referrals"] = run.too_common.get(op.viral_key, 0)

    all_links = store.links()
    started = _clock()
    found = networks(all_links, links.policy.floor)
    result["networks_s"] = _since(started)
    result["networks"] = len(found)

    started = _clock()
    graph = nx.Graph()
    graph.add_edges_from(
        pair
        for pair, total in pair_weights(all_links).items()
        if total >= links.policy.floor - 1e-9
    )
    peer = sorted(sorted(c) for c in nx.connected_components(graph))
    result["networkx_s"] = _since(started)
    result["same_as_networkx"] = peer == sorted(found)

    person_of_subject = {r.subject_id: op.person_of[r.external_id] for r in added}
    recovery = score_recovery(op, found, person_of_subject)
    result["precision"] = recovery.precision
    result["recall"] = recovery.recall
    result["planted_pairs"] = recovery.planted_pairs
    result["found_pairs"] = recovery.found_pairs

    started = _clock()
    assessed = priorities.reassess()
    result["assess_s"] = _since(started)
    result["subjects"] = len(assessed)
    result["bands"] = dict(Counter(a.band.value for a in assessed))

    # What correlating every shared value (no rarity cut, no time window) would store.
    holders: dict[str, set[int]] = defaultdict(set)
    for observation in store.key_observations():
        holders[observation.key].add(observation.subject_id)
    result["naive_pairs"] = sum(len(s) * (len(s) - 1) // 2 for s in holders.values())

    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    folder.cleanup()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--store", choices=["sqlite", "memory", "postgres"], default="sqlite")
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database (--store postgres)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.store, args.postgres)))
        return
    rows = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--store", args.store]
        if args.postgres:
            command += ["--postgres", args.postgres]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    print_table(rows)


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"store: {rows[0]['store']}; seconds as wall / CPU")
    header = (
        "referrals",
        "ingest/s (CPU)",
        "link s",
        "networks s",
        "networkx s",
        "assess s",
        "peak RSS MiB",
        "precision",
        "recall",
        "viral links",
        "links",
        "naive pairs",
    )
    print(" | ".join(header))
    for r in rows:
        ingest_wall, ingest_cpu = r["ingest_s"]
        print(
            " | ".join(
                [
                    f"{r['referrals']:,}",
                    f"{r['referrals'] / ingest_wall:,.0f} ({r['referrals'] / ingest_cpu:,.0f})",
                    "{:.1f} / {:.1f}".format(*r["link_s"]),
                    "{:.2f} / {:.2f}".format(*r["networks_s"]),
                    "{:.2f} / {:.2f}".format(*r["networkx_s"]),
                    "{:.1f} / {:.1f}".format(*r["assess_s"]),
                    f"{r['peak_rss_mib']:,.0f}",
                    f"{r['precision']:.4f}",
                    f"{r['recall']:.4f}",
                    str(r["viral_links"]),
                    f"{r['links']:,}",
                    f"{r['naive_pairs']:,}",
                ]
            )
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        scale = last["referrals"] / first["referrals"]
        print(f"growth {first['referrals']:,} -> {last['referrals']:,} referrals (x{scale:.0f}):")
        for name in ("ingest_s", "link_s", "networks_s", "assess_s"):
            print(f"  {name}: x{last[name][1] / max(first[name][1], 1e-9):.1f} CPU")
        print(f"  peak RSS: x{last['peak_rss_mib'] / first['peak_rss_mib']:.1f}")
    for r in rows:
        print(
            f"{r['referrals']:,}: networks {r['networks']} (same as networkx: {r['same_as_networkx']}), "
            f"viral image in {r['viral_referrals']:,} referrals linked {r['viral_links']} subjects, "
            f"re-ingest of {BATCH:,} added {r['reingest_added']} in {r['reingest_batch_s'][0]:.1f} s, "
            f"bands {r['bands']}"
        )


if __name__ == "__main__":
    main()
