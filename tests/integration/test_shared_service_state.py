"""Shared state of service replicas: Redis rate limits and PostgreSQL list-change notices."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.storage.memory_rate_limits import TokenBucketLimiter
from safeguard.storage.redis_rate_limits import RedisBuckets, RedisRateLimiter
from safeguard.storage.shared_rate_limits import block_size
from safeguard.storage.sql.change_notices import ListChangeListener
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.hash_list_store import SqlHashListStore
from tests.conftest import private_postgres_database, require_redis
from tests.integration.shared_buckets import CountingBuckets, leased, take_from_threads

REDIS_URL = os.environ.get("SAFEGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    from redis import Redis

    require_redis(REDIS_URL)
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    prefix = f"safeguard-test:{uuid.uuid4().hex}:"
    yield prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


def test_two_limiters_on_one_redis_share_each_keys_bucket(redis_prefix: str) -> None:
    one = RedisRateLimiter.from_url(REDIS_URL, TokenBucketLimiter(), redis_prefix)
    two = RedisRateLimiter.from_url(REDIS_URL, TokenBucketLimiter(), redis_prefix)
    waits = [(one if n % 2 else two).acquire("k", 10) for n in range(14)]
    assert waits[:10] == [0.0] * 10
    assert all(0 < wait <= 6.1 for wait in waits[10:])  # one token every 6 s
    assert one.acquire("other key", 10) == 0.0


def _counting_buckets(prefix: str) -> CountingBuckets:
    from redis import Redis

    return CountingBuckets(RedisBuckets(Redis.from_url(REDIS_URL), prefix))


def test_n_requests_cost_about_n_over_block_calls_to_redis(redis_prefix: str) -> None:
    buckets = _counting_buckets(redis_prefix)
    workers = [leased(buckets), leased(buckets)]
    allowed, _ = take_from_threads(workers, "k", 6000, 2400)
    assert allowed == 2400  # under the rate: all of them
    # 60 to a block; each worker's last one may be part spent.
    assert 2400 // 60 <= buckets.calls <= 2400 // 60 + 2, buckets.calls


def test_two_workers_on_redis_allow_the_rate_plus_at_most_a_block_each(redis_prefix: str) -> None:
    per_minute, block = 3000, block_size(3000)
    buckets = _counting_buckets(redis_prefix)
    workers = [leased(buckets), leased(buckets)]
    for worker in workers:  # each holds a block (less the token spent) as the flood begins
        assert worker.acquire("k", per_minute) == 0.0
    allowed, seconds = take_from_threads(workers, "k", per_minute, 2 * per_minute)
    refill = per_minute / 60.0 * seconds
    assert allowed <= per_minute - 2 + refill + 2 * block, (allowed, seconds)
    assert allowed >= per_minute - 2 - 2 * block, (allowed, seconds)
    most_calls = (allowed + 2) / block + 2 + 2 * refill  # see test_sql_rate_limits
    assert buckets.calls <= most_calls, (buckets.calls, allowed, seconds)


def test_an_unreachable_redis_falls_back_to_limits_per_process() -> None:
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:9/0", TokenBucketLimiter())
    assert [limiter.acquire("k", 2) > 0 for _ in range(3)] == [False, False, True]


def _failing_reader() -> Iterator[HashEntry]:
    raise RuntimeError("reader failed")
    yield  # a generator


@pytest.mark.postgres
def test_a_committed_list_change_is_announced_and_a_rolled_back_one_is_not() -> None:
    with private_postgres_database("safeguard_notices") as url:
        engine = make_engine(url)
        upgrade_schema(engine)
        store = SqlHashListStore(engine)
        heard: list[int] = []
        arrived = threading.Event()

        def on_change(revision: int) -> None:
            heard.append(revision)
            if revision >= 0:
                arrived.set()

        listener = ListChangeListener(url, on_change)
        listener.start()
        try:
            assert listener.wait_listening(30)
            assert heard == [-1]  # told once on connecting, to catch up
            started = time.monotonic()
            store.import_list(HashList("bad", ListKind.KNOWN_BAD), iter([]))
            assert arrived.wait(5)
            # Within a second on a quiet box (tests/web/test_replicas.py holds that); the
            # bound here only says "pushed, not polled" on a loaded one.
            assert time.monotonic() - started < 3.0
            assert heard[-1] == store.current_revision()
            arrived.clear()
            with pytest.raises(RuntimeError, match="reader failed"):
                store.import_list(HashList("other", ListKind.KNOWN_BAD), _failing_reader())
            assert not arrived.wait(0.5)  # rolled back: nothing to announce
        finally:
            listener.stop()
            engine.dispose()
