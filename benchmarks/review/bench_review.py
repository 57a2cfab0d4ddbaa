"""Review grid at scale: page time and grading round trip with 10,000 items in one exhibit.

Seeds a temporary SQLite store with a case, one exhibit holding N review items (random PDQ
codes, with near-duplicate groups of 5 planted), two examiners on the case's access list,
then serves the real app with uvicorn on 127.0.0.1 (ephemeral port) in this process and
drives it over HTTP with a keep-alive client (signed in through the sign-in form, with the
session's CSRF token, as the browser does):

* grid page: GET of a page of 200 items (first, middle, last page) and of 500 items;
* grading round trip: POST of one key for one item, and for one whole group;
* item detail (the panel the grid fetches on every move).

It also times the near-duplicate grouping of the N items (multi-index PDQ search over the
eight rotations/flips) against numpy brute force over all pairs, in the same run.
Thumbnails are not part of the page time: the page references them, and the browser
fetches them lazily as they scroll into view.

Usage (from the repository root):

    uv run --no-sync python benchmarks/review/bench_review.py [--items 10000] [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from safeguard.bootstrap import build_services
from safeguard.domain.cases import ExhibitKind
from safeguard.domain.people import Role
from safeguard.domain.review import ReviewItem
from safeguard.matching.brute_force import hamming_distances
from safeguard.matching.pdq_codes import codes_from_hex
from safeguard.services.review.grouping import near_duplicate_groups
from safeguard.settings import Settings
from safeguard.web.app import create_app

PASSWORD = "benchmark password, long enough"


def _near(code: str, rng: random.Random, bits: int) -> str:
    value = int(code, 16)
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def _codes(count: int, rng: random.Random) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        base = f"{rng.getrandbits(256):064x}"
        codes.append(base)
        if rng.random() < 0.1:  # a group of five near-duplicates
            codes.extend(_near(base, rng, rng.randint(2, 12)) for _ in range(4))
    return codes[:count]


def _timed(call: object, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    rng = random.Random(16)
    folder = Path(tempfile.mkdtemp(prefix="sg-bench-review-"))
    settings = Settings(data_dir=folder, password_time_cost=1, password_memory_kib=1024)
    services = build_services(settings)
    codes = _codes(args.items, rng)

    near_duplicate_groups(dict(enumerate(codes[:50], start=1)), {})  # compile the kernels first
    start = time.perf_counter()
    groups = near_duplicate_groups(dict(enumerate(codes, start=1)), {})
    grouping_s = time.perf_counter() - start
    start = time.perf_counter()
    packed = codes_from_hex(codes)
    for row in range(len(codes)):
        hamming_distances(packed, packed[row])
    brute_s = time.perf_counter() - start

    case = services.case_service.new_case("BENCH-1", "exa")
    exhibit = services.case_service.store.ensure_exhibit(
        case.case_id, "JB/1", str(folder), ExhibitKind.FOLDER, case.created_at
    )
    items = [
        ReviewItem(
            exhibit.exhibit_id,
            n,
            f"DCIM/{n:05d}.jpg",
            False,
            f"{n:032x}",
            None,
            f"{n:064x}",
            code,
            size=100_000,
            group_no=groups[n][0] if n in groups else None,
            group_distance=groups[n][1] if n in groups else None,
        )
        for n, code in enumerate(codes, start=1)
    ]
    services.review_store.replace_items(exhibit.exhibit_id, items)
    for name in ("exa", "exb"):
        services.users.create(name, PASSWORD, [Role.EXAMINER], actor="bench")
        services.case_access.grant(case.case_id, name, actor="bench")
    a_group = next(g for g, _d in groups.values())

    config = uvicorn.Config(
        create_app(services), host="127.0.0.1", port=0, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
        login = client.get("/ui/login").text
        secret = re.search(r'name="login_csrf" value="([^"]+)"', login)
        assert secret is not None
        client.post(
            "/ui/login",
            data={"login_csrf": secret.group(1), "username": "exa", "password": PASSWORD},
        )
        grid = f"/ui/review/cases/{case.case_id}/exhibits/{exhibit.exhibit_id}"
        page = client.get(grid)
        csrf = re.search(r'data-csrf="([^"]+)"', page.text)
        assert csrf is not None
        assert page.status_code == 200
        headers = {"X-CSRF-Token": csrf.group(1)}
        pages = -(-args.items // 200)
        rows = []
        for label, params in (
            ("grid page 1 (200 items)", {"page": 1}),
            (f"grid page {pages // 2} (200 items)", {"page": pages // 2}),
            (f"grid page {pages} (200 items)", {"page": pages}),
            ("grid page 1 (500 items)", {"page": 1, "per_page": 500}),
        ):
            rows.append(
                (
                    label,
                    *_timed(
                        lambda p=params: client.get(grid, params=p).raise_for_status(), args.rounds
                    ),
                )
            )
        numbers = iter(rng.sample(range(1, args.items + 1), min(args.items, args.rounds * 3)))
        rows.append(
            (
                "grade 1 item (POST, JSON)",
                *_timed(
                    lambda: client.post(
                        f"{grid}/grades",
                        json={"items": [next(numbers)], "key": "1"},
                        headers=headers,
                    ).raise_for_status(),
                    args.rounds,
                ),
            )
        )
        size = sum(1 for g, _d in groups.values() if g == a_group)
        rows.append(
            (
                f"grade 1 group of {size} (POST, JSON)",
                *_timed(
                    lambda: client.post(
                        f"{grid}/grades",
                        json={"items": [], "groups": [a_group], "key": "2"},
                        headers=headers,
                    ).raise_for_status(),
                    args.rounds,
                ),
            )
        )
        rows.append(
            (
                "item detail (GET, JSON)",
                *_timed(
                    lambda: client.get(
                        f"{grid}/items/{rng.randint(1, args.items)}"
                    ).raise_for_status(),
                    args.rounds,
                ),
            )
        )
        graded = len(services.review_store.current_grades(exhibit.exhibit_id))
    server.should_exit = True
    thread.join(timeout=30)
    services.engine.dispose()

    load = os.getloadavg()[0]
    print(
        f"review grid benchmark: {args.items} items, {len(set(g for g, _ in groups.values()))} groups, "
        f"{graded} graded during the run; SQLite; load average {load:.1f}"
    )
    print("| request | p50 ms | p95 ms |")
    print("|---|---:|---:|")
    for label, p50, p95 in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} |")
    print(
        f"\ngrouping {args.items} items (as found, threshold 31): {grouping_s:.2f} s with PdqIndex multi-index search; "
        f"numpy brute force over all pairs: {brute_s:.2f} s; ratio {brute_s / grouping_s:.1f}x"
    )


if __name__ == "__main__":
    main()
