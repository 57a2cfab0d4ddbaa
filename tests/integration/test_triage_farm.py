"""The triage farm: a real two-node Ray cluster on loopback scans exhibits into PostgreSQL.

The head and a second node are separate Ray processes on this machine
(`ray.cluster_utils.Cluster`). Four folder exhibits of generated benign pictures (stand-ins
for listed content) are queued; the second node is killed while it scans; the farm still
finishes every exhibit, and the results equal a scan of the same exhibits without Ray.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguard.bootstrap import Services, build_services
from safeguard.domain.cases import FileStatus
from safeguard.domain.farm import JobState
from safeguard.services.demo.pictures import write_photo
from safeguard.settings import Settings
from tests.conftest import private_postgres_database, require_module

ray = require_module("ray", "the 'cluster' extra (ray) is not installed")
from ray.cluster_utils import Cluster  # noqa: E402 - only with ray installed

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

EXHIBITS = 4
PICTURES = 100


def _exhibits(root: Path) -> list[Path]:
    folders = []
    for number in range(EXHIBITS):
        folder = root / f"device-{number}"
        folder.mkdir(parents=True)
        for picture in range(PICTURES):
            write_photo(
                folder / f"IMG_{picture:04d}.jpg",
                seed=number * 1000 + picture,
                width=320,
                height=240,
            )
        folders.append(folder)
    return folders


def _listed(folder: Path, services: Services) -> None:
    """The first picture of each exhibit stands in for listed content (by SHA-256)."""
    import hashlib

    lines = ["id,sha256,category_scheme,category"]
    for number, exhibit in enumerate(sorted(folder.glob("device-*"))):
        digest = hashlib.sha256((exhibit / "IMG_0000.jpg").read_bytes()).hexdigest()
        lines.append(f"listed-{number},{digest},project-vic,1")
    listed = folder / "listed.csv"
    listed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    services.list_service.import_file(listed, name="stand-ins", kind=None)


def _results(services: Services, case_number: str) -> dict[tuple[str, str], tuple[str, str]]:
    store = services.case_store
    case = store.case_by_number(case_number)
    return {
        (exhibit.reference, result.path): (result.status.value, result.sha256 or "")
        for exhibit in store.exhibits(case.case_id)
        for result in store.results(exhibit.exhibit_id)
    }


@pytest.fixture
def database() -> Iterator[str]:
    with private_postgres_database("safeguard_farm_ray") as url:
        yield url


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    # Loopback only: Ray would otherwise rewrite 127.0.0.1 to this machine's network address.
    monkeypatch.setattr(ray._private.ray_constants, "ENABLE_RAY_CLUSTER", False)
    store = 80 * 1024 * 1024
    started = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "object_store_memory": store,
            "include_dashboard": False,
            "node_ip_address": "127.0.0.1",  # loopback only
        },
    )
    try:
        yield started
    finally:
        ray.shutdown()
        started.shutdown()


def test_farm_survives_losing_a_node_mid_scan(
    tmp_path: Path, database: str, cluster: Cluster
) -> None:
    second = cluster.add_node(
        num_cpus=1, object_store_memory=80 * 1024 * 1024, node_ip_address="127.0.0.1"
    )
    cluster.wait_for_nodes()
    exhibits = _exhibits(tmp_path / "evidence")
    # What `safeguard farm work` gets with SAFEGUARD_BATCH_BACKEND=ray and the cluster's address.
    settings = Settings(
        data_dir=tmp_path / "farm-data",
        database_url=database,
        workers=1,
        batch_backend="ray",
        ray_address=cluster.address,
    )
    services = build_services(settings)
    _listed(tmp_path / "evidence", services)
    services.case_service.new_case("OP-FARM", "examiner-a")
    farm = services.triage_farm(workers=2, worker_name="driver")
    assert len(farm.submit("OP-FARM", exhibits, "examiner-a")) == EXHIBITS

    finished: list[object] = []
    worker = threading.Thread(target=lambda: finished.append(farm.work()))
    worker.start()
    # Kill the second node while two exhibits are being scanned, one on each node: each has a
    # scan run started and not finished in the case store.
    store = services.case_store
    deadline = time.monotonic() + 180
    scanning = 0
    while time.monotonic() < deadline:
        case = store.case_by_number("OP-FARM")
        scanning = sum(
            1
            for exhibit in store.exhibits(case.case_id)
            if any(run.finished_at is None for run in store.runs(exhibit.exhibit_id))
        )
        if scanning >= 2:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the farm did not start two exhibits in time ({scanning} scanning)")
    cluster.remove_node(second, allow_graceful=False)
    worker.join(timeout=300)
    assert not worker.is_alive()

    jobs = {p.job.exhibit_reference: p for p in farm.status("OP-FARM")}
    assert all(p.job.state is JobState.DONE for p in jobs.values()), [
        (p.job.exhibit_reference, p.job.state, p.job.error) for p in jobs.values()
    ]
    assert all(p.recorded == PICTURES for p in jobs.values())
    assert all(p.counts.get(FileStatus.KNOWN_BAD, 0) == 1 for p in jobs.values())
    # The exhibit that was on the lost node was scanned again elsewhere, resuming: two runs.
    case = store.case_by_number("OP-FARM")
    runs = [len(store.runs(exhibit.exhibit_id)) for exhibit in store.exhibits(case.case_id)]
    assert max(runs) >= 2, runs
    farm_results = _results(services, "OP-FARM")

    # The same exhibits scanned without Ray, into a second case, give the same results.
    services.case_service.new_case("OP-REFERENCE", "examiner-a")
    for exhibit in exhibits:
        services.triage_service.scan(exhibit, "OP-REFERENCE")
    assert farm_results == _results(services, "OP-REFERENCE")
    services.engine.dispose()
    assert os.environ.get("RAY_USAGE_STATS_ENABLED") == "0"
