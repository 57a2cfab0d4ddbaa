"""Server CPU of `/v1/match` by PDQ hash without HTTP: the ASGI app called directly.

Not a timed test: run it by hand. Builds a SQLite store with N random PDQ entries, then sends
R JSON hash queries (random, so unknown: the common case) straight into the FastAPI app,
measuring this process's CPU time (all threads) per request, in the same run:

* ``per-request writes``: the seen-upload writer not running, so each request takes the
  thread-pool path and writes and commits its hash record itself (the service before
  issue 13);
* ``batched``: the writer running, so unmatched hash queries are answered on the event loop
  and their records written in batches (the service now);
* ``lookup alone``: `MatchService.match_digests` on the same index, as the keeper runs it.

With ``--redis-url`` (and/or ``--postgres-url``) the batched path is also measured with the
rate limits shared through that server, in the same alternation: ``per request`` asks the
shared bucket on every request (blocks of one token: a thread hop and a round trip, as the
service did before leasing), ``in blocks`` leases blocks of tokens (the service now). Each
phase uses a fresh key of the default rate (6000 a minute, so blocks of 60); the batched
phase without either option limits in process. The PostgreSQL server holds only the rate
buckets (the store stays SQLite), so the difference is the limiter's alone.

HTTP parsing (uvicorn) is not included; `bench_service.py` measures the whole server.

Usage (from the repository root):

    uv run --no-sync python benchmarks/service/bench_hot_path.py [--entries 100000] [--requests 3000]
        [--redis-url redis://127.0.0.1:6379/0] [--postgres-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from safeguard.bootstrap import build_services
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.domain.service import Scope
from safeguard.settings import load_settings
from safeguard.storage.memory_rate_limits import TokenBucketLimiter
from safeguard.storage.shared_rate_limits import MAX_BLOCK, Limiter
from safeguard.web.app import create_app

KEY_RATE = 6000
"""The default ``SAFEGUARD_API_RATE_PER_MINUTE``: blocks of 60 tokens."""


async def call(app: Any, token: str, body: bytes) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/match",
        "raw_path": b"/v1/match",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
        "state": {},
    }
    sent = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    statuses: list[int] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    assert statuses == [200], statuses


def cpu_ms_per(count: int, run: Callable[[], Awaitable[None]]) -> float:
    started = time.process_time()
    asyncio.run(run())
    return (time.process_time() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--redis-url", default="", help="also measure limits shared in Redis")
    parser.add_argument(
        "--postgres-url",
        default="",
        help="also measure limits shared in PostgreSQL (a scratch database: its schema is upgraded)",
    )
    args = parser.parse_args()
    if args.requests >= KEY_RATE:
        parser.error(f"--requests must stay under a key's burst ({KEY_RATE})")
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="sg-bench-hot-") as tmp:
        services = build_services(load_settings({"SAFEGUARD_DATA_DIR": str(Path(tmp))}))
        entries = (
            HashEntry(f"e{i}", {HashAlgorithm.PDQ: f"{rng.getrandbits(256):064x}"})
            for i in range(args.entries)
        )
        services.hash_list_store.import_list(HashList("bench", ListKind.KNOWN_BAD), entries)
        app = create_app(services, background=False)
        state = app.state.safeguard
        in_process = state.limiter
        shared, closers = shared_limiters(args.redis_url, args.postgres_url)
        bodies = [
            json.dumps({"pdq": f"{rng.getrandbits(256):064x}"}).encode()
            for _ in range(args.requests)
        ]

        def measure(limiter: Limiter) -> float:
            # A fresh key (its bucket full), looked up and its first block taken untimed.
            state.limiter = limiter
            token = services.api_keys.create("bench", [Scope.MATCH], KEY_RATE).token
            asyncio.run(call(app, token, bodies[0]))

            async def send_all() -> None:
                for body in bodies[1:]:
                    await call(app, token, body)

            return cpu_ms_per(len(bodies) - 1, send_all)

        results: dict[str, float] = {}
        for _ in range(2):  # alternate, so all see the same machine
            results["per-request writes"] = measure(in_process)
            services.seen_writer.start()
            results["batched"] = measure(in_process)
            for name, limiter in shared.items():
                results[f"batched, {name}"] = measure(limiter)
            services.seen_writer.stop()
        for close in closers:
            close()
        matcher = services.index_keeper
        values = [f"{rng.getrandbits(256):064x}" for _ in range(args.requests)]
        started = time.process_time()
        with matcher.reading() as match_service:
            for value in values:
                match_service.match_file_hashes(_pdq_only(value))
        results["lookup alone"] = (time.process_time() - started) / len(values) * 1000
        services.engine.dispose()
    for name, value in results.items():
        print(f"{name}: {value:.3f} ms CPU per request")
    print(
        f"per-request writes / batched = {results['per-request writes'] / results['batched']:.2f}x; "
        f"batched / lookup alone = {results['batched'] / results['lookup alone']:.1f}x"
    )
    for store in ("Redis", "PostgreSQL"):
        each, blocks = (f"batched, {store} limits {how}" for how in ("per request", "in blocks"))
        if each in results:
            print(
                f"{store}: per request / in blocks = {results[each] / results[blocks]:.2f}x; "
                f"in blocks - in process = {results[blocks] - results['batched']:+.3f} ms"
            )
    load = os.getloadavg()
    print(
        f"{args.entries:,} entries, {args.requests:,} requests; load average {load[0]:.1f} (2 vCPUs, shared)"
    )


def shared_limiters(
    redis_url: str, postgres_url: str
) -> tuple[dict[str, Limiter], list[Callable[[], None]]]:
    """Limiters sharing buckets through the servers given, per request and in blocks."""
    limiters: dict[str, Limiter] = {}
    closers: list[Callable[[], None]] = []
    if redis_url:
        from redis import Redis

        from safeguard.storage.redis_rate_limits import RedisRateLimiter

        client = Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        prefix = f"safeguard-bench:{uuid.uuid4().hex}:"
        for how, most in (("per request", 1), ("in blocks", MAX_BLOCK)):
            limiters[f"Redis limits {how}"] = RedisRateLimiter(
                client, TokenBucketLimiter(), prefix, max_block=most
            )

        def forget_redis() -> None:
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)
            client.close()

        closers.append(forget_redis)
    if postgres_url:
        from safeguard.storage.sql.engine import make_engine, upgrade_schema
        from safeguard.storage.sql.rate_limits import SqlRateLimiter

        engine = make_engine(postgres_url)
        upgrade_schema(engine)
        for how, most in (("per request", 1), ("in blocks", MAX_BLOCK)):
            limiters[f"PostgreSQL limits {how}"] = SqlRateLimiter(
                engine, TokenBucketLimiter(), max_block=most
            )
        closers.append(engine.dispose)
    return limiters, closers


def _pdq_only(value: str) -> Any:
    from safeguard.domain.file_hashes import FileHashes

    return FileHashes(path="q", size=None, digests={}, pdq=value, pdq_quality=100)


if __name__ == "__main__":
    main()
