"""Load benchmark of the matching service on loopback: throughput and latency of /v1/match.

Builds a list of N random PDQ codes plus planted known ones (stand-ins hashed from
generated pictures) in a temporary SQLite database, pre-builds the saved PDQ index, starts
`safeguard serve` with W uvicorn workers on a free loopback port, and drives `/v1/match`
from C client threads:

* by hash (JSON body with a PDQ hash; 10 % planted, 90 % random),
* by upload (a ~1 MP JPEG body, hashed by the server; 10 % planted stand-ins),

each phase bounded by a request count and a time limit. Then it adds one entry through the
API and measures the time until a match on it is visible from every worker.

The client runs on the same machine as the server and takes CPU from it; figures are
a floor for a dedicated box. Loopback only; the server is stopped at the end.

Usage (from the repository root):

    uv run --no-sync python benchmarks/service/bench_service.py \
        [--entries 1000000] [--workers 2] [--concurrency 8] \
        [--hash-requests 5000] [--upload-requests 600] [--phase-seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.domain.service import Scope
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_bytes
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.matching import MatchService
from safeguard.services.platform.api_keys import ApiKeyService
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.hash_list_store import SqlHashListStore
from safeguard.storage.sql.service_store import SqlServiceStore

LIST = "bench"


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    known: int
    server_cpu: float = 0.0
    loop_cpu: float = 0.0
    loop_system_cpu: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu / self.requests * 1000 if self.requests else 0.0

    def line(self, cores: int) -> str:
        if not self.latencies:
            return f"| {self.name} | skipped |"
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        rate = self.requests / self.seconds
        per_request = self.server_cpu / self.requests * 1000
        # What the server's own CPU use implies for `cores` dedicated cores.
        implied = self.requests / self.server_cpu * cores if self.server_cpu else 0.0
        return (
            f"| {self.name} | {self.requests} | {self.seconds:.1f} | {rate:.0f} | {p50:.1f} | "
            f"{p99:.1f} | {per_request:.2f} | {implied:.0f} | {self.known} | {self.errors} |"
        )


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds of `root` and its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return sum(times.get(pid, 0.0) for pid in tree)


def loop_threads_cpu(root: int) -> tuple[float, float]:
    """User and system CPU seconds of the main threads of `root`'s children (the workers'
    event loops)."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(root):
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != root:  # workers are the supervisor's children
                continue
            main = (entry / "task" / entry.name / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(main[11]) / ticks
        system += int(main[12]) / ticks
    return user, system


def measured(server: int, run: Callable[[], Phase]) -> Phase:
    before, loops_before = process_tree_cpu(server), loop_threads_cpu(server)
    phase = run()
    phase.server_cpu = process_tree_cpu(server) - before
    loops_after = loop_threads_cpu(server)
    phase.loop_cpu = loops_after[0] - loops_before[0]
    phase.loop_system_cpu = loops_after[1] - loops_before[1]
    return phase


def random_pdq(count: int, seed: int) -> Iterator[HashEntry]:
    rng = random.Random(seed)
    for index in range(count):
        yield HashEntry(f"r{index}", {HashAlgorithm.PDQ: f"{rng.getrandbits(256):064x}"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drive(
    port: int,
    token: str,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    make_request: Callable[[int], tuple[bytes, str]],
) -> Phase:
    latencies: list[float] = []
    counters = {"sent": 0, "errors": 0, "known": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if counters["sent"] >= max_requests or time.perf_counter() > deadline:
                    break
                number = counters["sent"]
                counters["sent"] += 1
            body, content_type = make_request(number)
            started = time.perf_counter()
            connection.request(
                "POST",
                "/v1/match",
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
            )
            response = connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    counters["errors"] += 1
                elif b'"known":true' in payload:
                    counters["known"] += 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Phase(
        "",
        len(latencies),
        time.perf_counter() - started,
        latencies,
        counters["errors"],
        counters["known"],
    )


def post_json(port: int, token: str, path: str, body: object) -> dict[str, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request(
        "POST",
        path,
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    data = json.loads(response.read())
    connection.close()
    return data  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--hash-requests", type=int, default=5000)
    parser.add_argument("--upload-requests", type=int, default=600)
    parser.add_argument("--phase-seconds", type=float, default=60.0)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="run each worker under cProfile (profiled_serve.py) and write its stats here; "
        "the CPU figures are then inflated by the profiler",
    )
    parser.add_argument(
        "--skip-uploads", action="store_true", help="hash phase only (profiling runs)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="safeguard-bench-") as folder:
        root = Path(folder)
        data_dir = root / "data"
        url = f"sqlite:///{root / 'service.db'}"
        engine = make_engine(url)
        upgrade_schema(engine)
        store = SqlHashListStore(engine)
        options = HashOptions()
        print(
            f"building {args.entries:,} random PDQ entries + {args.planted} planted ...", flush=True
        )
        started = time.perf_counter()
        planted_photos = [
            encode(synthetic_photo(1000 + i, 1152, 864), quality=85) for i in range(args.planted)
        ]
        planted = [hash_bytes(p, "planted", options) for p in planted_photos]
        entries = list(random_pdq(args.entries, seed=7))
        entries += [
            HashEntry(f"planted{i}", {HashAlgorithm.PDQ: h.pdq or ""})
            for i, h in enumerate(planted)
        ]
        store.import_list(HashList(LIST, ListKind.KNOWN_BAD, action="block"), entries)
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        in_process = MatchService(store, index_dir=data_dir / "index", auto_refresh=False)
        in_process.refresh()
        index_s = time.perf_counter() - started
        print(f"  import {import_s:.1f} s, index build+save {index_s:.1f} s", flush=True)
        # The lookup itself, in this process, as the service's keeper runs it (same run).
        lookups = [e.digests[HashAlgorithm.PDQ] for e in random_pdq(2000, seed=99)]
        in_process.match_digests({HashAlgorithm.PDQ: lookups[0]})
        cpu0 = time.process_time()
        for value in lookups:
            in_process.match_digests({HashAlgorithm.PDQ: value})
        lookup_ms = (time.process_time() - cpu0) / len(lookups) * 1000
        del in_process
        token = (
            ApiKeyService(SqlServiceStore(engine))
            .create("bench", [Scope.ADMIN], rate_per_minute=100_000_000)
            .token
        )
        engine.dispose()

        port = free_port()
        env = {
            **os.environ,
            "SAFEGUARD_DATA_DIR": str(data_dir),
            "SAFEGUARD_INDEX_POLL_MS": "1000",
        }
        if args.profile is None:
            command = [
                *(sys.executable, "-m", "safeguard", "serve", "--port", str(port)),
                *("--workers", str(args.workers), "--db", url),
            ]
        else:
            profiled = Path(__file__).with_name("profiled_serve.py")
            command = [sys.executable, str(profiled), str(args.profile.resolve())]
            command += [str(port), str(args.workers), url]
        server = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            started = time.perf_counter()
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/readyz")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.perf_counter() - started > 300:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
            print(f"  server ready after {time.perf_counter() - started:.1f} s", flush=True)

            rng = random.Random(3)
            hash_bodies = []
            for number in range(2000):
                pdq = (
                    planted[number % args.planted].pdq
                    if number % 10 == 0
                    else f"{rng.getrandbits(256):064x}"
                )
                hash_bodies.append(json.dumps({"pdq": pdq, "content_id": f"c{number}"}).encode())
            unknown_photos = [
                encode(synthetic_photo(5000 + i, 1152, 864), quality=85) for i in range(18)
            ]
            uploads = [*planted_photos[:2], *unknown_photos]
            json_type = "application/json"

            def query_of(number: int) -> bytes:
                return hash_bodies[(number * 7919) % len(hash_bodies)]

            # Warm each worker's code paths before timing.
            if args.skip_uploads:
                drive(port, token, args.concurrency, 200, 30, lambda n: (query_of(n), json_type))
            else:
                drive(
                    port, token, args.concurrency, 40, 30, lambda n: (uploads[n % 20], "image/jpeg")
                )
            by_hash = measured(
                server.pid,
                lambda: drive(
                    port,
                    token,
                    args.concurrency,
                    args.hash_requests,
                    args.phase_seconds,
                    lambda n: (hash_bodies[n % len(hash_bodies)], "application/json"),
                ),
            )
            by_hash.name = "by PDQ hash (JSON)"
            by_upload = measured(
                server.pid,
                lambda: drive(
                    port,
                    token,
                    args.concurrency,
                    0 if args.skip_uploads else args.upload_requests,
                    args.phase_seconds,
                    lambda n: (uploads[n % len(uploads)], "image/jpeg"),
                ),
            )
            by_upload.name = f"by upload ({len(uploads[0]) // 1024} KiB, 1152x864 JPEG)"

            fresh = hash_bytes(encode(synthetic_photo(9999, 640, 480)), "fresh", options)
            query = json.dumps({"pdq": fresh.pdq}).encode()
            started = time.perf_counter()
            post_json(
                port,
                token,
                f"/v1/lists/{LIST}/entries",
                {"entries": [{"entry_id": "fresh", "pdq": fresh.pdq}]},
            )
            added_s = time.perf_counter() - started
            first_visible = None
            streak = 0
            while streak < 20 and time.perf_counter() - started < 120:
                phase = drive(port, token, 1, 1, 10, lambda n: (query, "application/json"))
                if phase.known:
                    streak += 1
                    first_visible = first_visible or time.perf_counter() - started
                else:
                    streak = 0
                    time.sleep(0.02)
            all_visible = time.perf_counter() - started
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

    print()
    print(
        f"{args.entries:,} random PDQ entries + {args.planted} planted; {args.workers} uvicorn "
        f"workers; {args.concurrency} client threads on the same machine ({os.cpu_count()} CPUs)"
    )
    print()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average at the end (other work on the box included): {load}")
    print()
    print(
        "| /v1/match | requests | seconds | req/s | p50 ms | p99 ms "
        f"| server CPU ms/req | req/s implied on {args.workers} dedicated cores | known | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(by_hash.line(args.workers))
    print(by_upload.line(args.workers))
    print()
    if by_hash.requests:
        per = 1000 / by_hash.requests
        print(
            f"by hash, server CPU ms/req in the workers' event-loop threads: "
            f"{by_hash.loop_cpu * per:.2f} user + {by_hash.loop_system_cpu * per:.2f} system "
            "(the rest: other threads, such as the batched writes and thread-pool matches, "
            "and other processes)"
        )
    print(
        f"in-process MatchService.match_digests by PDQ (the lookup alone, same run): "
        f"{lookup_ms:.3f} ms CPU; server CPU per /v1/match by hash / lookup = "
        f"{by_hash.cpu_ms_per_request / lookup_ms:.1f}x"
    )
    print(f"list import {import_s:.1f} s; index build and save {index_s:.1f} s")
    print(f"add one entry through the API: answered in {added_s:.2f} s")
    visible = f"{first_visible:.2f} s" if first_visible else "never"
    print(f"match on it visible: first {visible}; on 20 calls in a row {all_visible:.2f} s")


if __name__ == "__main__":
    main()
