"""Intelligence packages at operation scale: build, render, disseminate, outcomes, dashboard.

Not a timed test: run it by hand. For N synthetic subjects spread over the 45 forces (real
postcodes, routed through the shipped postcode directory) on SQLite (a file in a temporary
folder) and optionally PostgreSQL (a throwaway database), it measures

* building: dossier -> routing -> content -> canonical JSON + SHA-256 -> stored version 1
  with its audit event, packages per second;
* rendering: each package's current version read back (audited) and rendered to HTML and
  JSON, packages per second; "built and rendered" is the two together;
* approving and sending every package (the HTML hash recorded at issue);
* acknowledging and recording an outcome for 60 % of them;
* the dashboard at that size: computing the figures, rendering the page (inline SVG), and
  the whole ``GET /ui/packages/dashboard`` through the app for a signed-in supervisor;
  median of 5 each.

No peer library builds police intelligence packages, so there is no ratio to print; the
figures are absolute, CPU time beside wall time (the machine may be shared).

Usage (from the repository root):

    uv run --no-sync python benchmarks/packages/bench_packages.py [--subjects 10000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal
from sqlalchemy import text
from sqlalchemy.engine import make_url

from safeguard.bootstrap import build_services
from safeguard.domain.package_access import PackageRole, Viewer
from safeguard.domain.package_outcomes import Outcome, SeizedDevice
from safeguard.domain.people import Role
from safeguard.reporting.operation_dashboard import render_dashboard_html
from safeguard.services.intel.package_documents import render
from safeguard.services.intel.synthetic_dossiers import SyntheticDossiers
from safeguard.settings import Settings
from safeguard.storage.sql.engine import make_engine
from safeguard.web.app import create_app
from safeguard.web.people import SESSION_COOKIE

ANALYST = Viewer("bench:analyst", frozenset({PackageRole.NATIONAL_ANALYST}))
SUPERVISOR = Viewer("bench:supervisor", frozenset({PackageRole.NATIONAL_SUPERVISOR}))


def timed(label: str, count: int, work: Callable[[], Any]) -> tuple[float, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(
        f"  {label:<44} {count:>7,} in {wall:7.2f} s wall ({count / wall:8.1f}/s), "
        f"{cpu:7.2f} s CPU ({count / max(cpu, 1e-9):8.1f}/s)"
    )
    return count / wall, count / max(cpu, 1e-9)


def median_time(work: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    return statistics.median(walls), statistics.median(cpus)


@contextmanager
def postgres_database(base: str) -> Iterator[str]:
    name = f"bench_packages_{uuid.uuid4().hex[:8]}"
    admin = make_engine(
        make_url(base).set(database="postgres").render_as_string(hide_password=False)
    )
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(label: str, subjects: int, data_dir: Path, database_url: str = "") -> None:
    print(f"\n{label}: {subjects:,} subjects")
    settings = Settings(
        data_dir=data_dir, database_url=database_url, password_time_cost=1, password_memory_kib=1024
    )
    services = build_services(settings)
    dossiers = SyntheticDossiers()
    services.__dict__["package_dossiers"] = dossiers  # synthetic subjects, not the core's
    references = [d.reference for d in dossiers.generate(subjects)]
    _ = services.engine
    # Load the postcode directory's letters up front (a one-off per process, timed apart).
    start = time.perf_counter()
    for d in dossiers.dossiers.values():
        services.force_router.route(d.location)
    print(f"  postcode directory warm-up (all letters used) {time.perf_counter() - start:6.2f} s")

    ids: list[int] = []
    build_rate = timed(
        "build (route, compose, hash, store, audit)",
        subjects,
        lambda: ids.extend(services.packages.build(ANALYST, r).package_id for r in references),
    )

    def render_all() -> None:
        for package_id in ids:
            view = services.packages.read(ANALYST, package_id, fmt="html")
            render(view, "html")
            render(view, "json")

    render_rate = timed("read + render HTML and JSON", subjects, render_all)
    both = 1 / (1 / build_rate[0] + 1 / render_rate[0])
    both_cpu = 1 / (1 / build_rate[1] + 1 / render_rate[1])
    print(f"  {'built and rendered':<44} {both:8.1f} packages/s wall, {both_cpu:.1f}/s CPU")

    def disseminate() -> None:
        for package_id in ids:
            services.dissemination.approve(SUPERVISOR, package_id)
            services.dissemination.send(SUPERVISOR, package_id)

    timed("approve + send (HTML hash at issue)", subjects, disseminate)
    rng = random.Random(15)
    acted = [p for p in services.package_store.packages() if rng.random() < 0.6]

    def outcomes() -> None:
        for package in acted:
            contact = Viewer(
                "bench:contact", frozenset({PackageRole.FORCE_CONTACT}), package.destination
            )
            services.dissemination.acknowledge(contact, package.package_id)
            services.package_outcomes.record(
                contact,
                package.package_id,
                Outcome(
                    0,
                    0,
                    "",
                    # Built and sent in this run: today is the only date of action allowed.
                    services.package_outcomes.today(),
                    premises_searched=rng.randint(1, 2),
                    arrests=rng.randint(0, 2),
                    devices=(SeizedDevice("phone"),),
                    children_safeguarded=1,
                    safeguarding_basis="in the care of the suspect",
                ),
            )

    timed("acknowledge + outcome", len(acted), outcomes)
    board = services.operation_dashboard.dashboard(SUPERVISOR)
    figures = median_time(lambda: services.operation_dashboard.dashboard(SUPERVISOR))
    page = median_time(lambda: render_dashboard_html(board))
    print(
        f"  dashboard figures (median of 5)              {figures[0] * 1000:8.1f} ms wall, "
        f"{figures[1] * 1000:.1f} ms CPU"
    )
    print(
        f"  dashboard page render (median of 5)          {page[0] * 1000:8.1f} ms wall, "
        f"{page[1] * 1000:.1f} ms CPU ({len(render_dashboard_html(board)) / 1024:.0f} KiB)"
    )
    services.users.create(
        "bench-sue", "correct horse battery staple", [Role.NATIONAL_SUPERVISOR], actor="bench"
    )
    token = services.sign_in.sign_in("bench-sue", "correct horse battery staple").token
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services, background=False)),
            base_url="http://bench.test",
        )
        headers = {"Cookie": f"{SESSION_COOKIE}={token}"}

        def get() -> None:
            answer = portal.call(lambda: client.get("/ui/packages/dashboard", headers=headers))
            assert answer.status_code == 200, answer.status_code

        get()  # first request loads the app state
        http = median_time(get)
        portal.call(client.aclose)
    print(
        f"  GET /ui/packages/dashboard (median of 5)     {http[0] * 1000:8.1f} ms wall, "
        f"{http[1] * 1000:.1f} ms CPU ({board.national.packages:,} packages, "
        f"{board.national.arrests:,} arrests)"
    )
    services.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--postgres", default="", help="server URL; a throwaway database is made")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-packages-") as folder:
        run("SQLite", args.subjects, Path(folder) / "sqlite")
        if args.postgres:
            with postgres_database(args.postgres) as url:
                run("PostgreSQL", args.subjects, Path(folder) / "pg", url)


if __name__ == "__main__":
    main()
