"""Triage farm throughput on one and two Ray nodes, against the local process pool.

Queues the same folder exhibits of generated benign JPEGs (stand-ins for seized devices)
three times into a fresh PostgreSQL case database, and works the queue with:

* the local process pool (``SAFEGUARD_BATCH_BACKEND=local``), the baseline;
* a Ray cluster of one node (the head, 1 CPU);
* a Ray cluster of two nodes (the head and a second node, 1 CPU each), as two machines
  would be; on this one box both nodes share its cores, so read the ratio, not the
  absolute rate.

Nodes are separate Ray processes on loopback (`ray.cluster_utils.Cluster`). Prints wall
seconds, exhibits per minute and files per second for each, and checks that every run
recorded the same results.

Usage (needs the ``cluster`` extra and the PostgreSQL server):

    uv run --no-sync python benchmarks/batch/bench_farm.py [--exhibits 6] [--pictures 60]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from safeguard.bootstrap import build_services
from safeguard.services.demo.pictures import write_photo
from safeguard.settings import Settings
from safeguard.storage.sql.engine import make_engine

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_database(base: str) -> str:
    name = f"safeguard_bench_farm_{os.getpid()}_{int(time.time())}"
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_database(base: str, url: str) -> None:
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def run(settings: Settings, case: str, exhibits: list[Path], workers: int) -> tuple[float, dict]:
    services = build_services(settings)
    services.case_service.new_case(case, "bench")
    farm = services.triage_farm(workers=workers, worker_name=f"bench-{case}")
    farm.submit(case, exhibits, "bench")
    started = time.perf_counter()
    outcome = farm.work()
    seconds = time.perf_counter() - started
    if outcome.failed or outcome.requeued:
        raise SystemExit(f"farm run did not finish cleanly: {outcome}")
    store = services.case_store
    found = {
        (e.reference, r.path): (r.status.value, r.sha256)
        for e in store.exhibits(store.case_by_number(case).case_id)
        for r in store.results(e.exhibit_id)
    }
    services.engine.dispose()
    return seconds, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exhibits", type=int, default=6)
    parser.add_argument("--pictures", type=int, default=60)
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    import ray._private.ray_constants
    from ray.cluster_utils import Cluster

    # Loopback only: Ray would otherwise rewrite 127.0.0.1 to this machine's network address.
    ray._private.ray_constants.ENABLE_RAY_CLUSTER = False

    with tempfile.TemporaryDirectory(prefix="safeguard-farm-bench-") as folder:
        root = Path(folder)
        exhibits = []
        for number in range(args.exhibits):
            exhibit = root / f"device-{number}"
            exhibit.mkdir()
            for picture in range(args.pictures):
                write_photo(exhibit / f"IMG_{picture:04d}.jpg", seed=number * 10_000 + picture)
            exhibits.append(exhibit)
        files = args.exhibits * args.pictures
        url = fresh_database(args.postgres)
        try:
            base = Settings(data_dir=root / "data", database_url=url, workers=1)
            rows = []
            seconds, reference = run(base.with_overrides(workers=2), "LOCAL", exhibits, 2)
            rows.append(("local process pool, 2 workers", seconds))
            for nodes in (1, 2):
                node_args = {"num_cpus": 1, "object_store_memory": 80 * 1024**2}
                cluster = Cluster(
                    initialize_head=True,
                    head_node_args={
                        **node_args, "include_dashboard": False, "node_ip_address": "127.0.0.1"
                    },
                )  # fmt: skip
                for _ in range(nodes - 1):
                    cluster.add_node(**node_args, node_ip_address="127.0.0.1")
                cluster.wait_for_nodes()
                settings = base.with_overrides(batch_backend="ray", ray_address=cluster.address)
                seconds, found = run(settings, f"RAY{nodes}", exhibits, nodes)
                ray.shutdown()
                cluster.shutdown()
                if found != reference:
                    raise SystemExit("results differ between backends")
                rows.append((f"Ray, {nodes} node{'s' if nodes > 1 else ''} x 1 CPU", seconds))
        finally:
            drop_database(args.postgres, url)
    print(
        f"{args.exhibits} exhibits x {args.pictures} generated JPEGs ({files} files), PostgreSQL store"
    )
    print("| farm backend | wall s | exhibits/min | files/s | vs 1 Ray node |")
    print("|---|---:|---:|---:|---:|")
    one_node = rows[1][1]
    for name, seconds in rows:
        print(
            f"| {name} | {seconds:.1f} | {args.exhibits / seconds * 60:.1f} | "
            f"{files / seconds:.1f} | {one_node / seconds:.2f}x |"
        )
    print("Results identical across backends: yes")


if __name__ == "__main__":
    main()
