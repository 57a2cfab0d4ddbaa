"""Rate limits shared through PostgreSQL: two limiters (two replicas) take from one bucket.

With a rate of 200 a minute or more each worker leases blocks of tokens
(`safeguard.storage.shared_rate_limits`): N requests cost about N / block writes, and two
workers together allow the rate plus at most a block each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from safeguard.storage.memory_rate_limits import TokenBucketLimiter
from safeguard.storage.shared_rate_limits import block_size
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.rate_limits import IDLE_SECONDS, SqlBuckets, SqlRateLimiter
from tests.conftest import private_postgres_database
from tests.integration.shared_buckets import CountingBuckets, leased, take_from_threads

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with private_postgres_database("guard_rate_limits") as url:
        made = make_engine(url)
        upgrade_schema(made)
        yield made
        made.dispose()


def test_two_limiters_share_each_keys_bucket(engine: Engine) -> None:
    one = SqlRateLimiter(engine, TokenBucketLimiter())
    two = SqlRateLimiter(engine, TokenBucketLimiter())
    waits = [(one if n % 2 else two).acquire("k-shared", 10) for n in range(14)]
    assert waits[:10] == [0.0] * 10
    assert all(0 < wait <= 6.0 for wait in waits[10:]), waits  # one token every 6 s
    assert one.acquire("another key", 10) == 0.0
    assert two.acquire("client:203.0.113.4", 1) == 0.0
    assert 59.0 < one.acquire("client:203.0.113.4", 1) <= 60.0


def test_concurrent_takers_get_exactly_the_allowance(engine: Engine) -> None:
    limiters = [SqlRateLimiter(engine, TokenBucketLimiter()) for _ in range(2)]
    granted: list[bool] = []
    lock = threading.Lock()

    def take(limiter: SqlRateLimiter) -> None:
        for _ in range(25):
            allowed = limiter.acquire("k-busy", 60) == 0.0
            with lock:
                granted.append(allowed)

    threads = [threading.Thread(target=take, args=(limiters[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 200
    # 60 at once, plus one a second of refill while the 200 calls run on a busy box.
    assert 60 <= granted.count(True) <= 60 + 5, granted.count(True)


def test_n_requests_cost_about_n_over_block_writes(engine: Engine) -> None:
    buckets = CountingBuckets(SqlBuckets(engine))
    workers = [leased(buckets), leased(buckets)]
    allowed, _ = take_from_threads(workers, "k-blocks", 6000, 2400)
    assert allowed == 2400  # under the rate: all of them
    # 60 to a block; each worker's last one may be part spent.
    assert 2400 // 60 <= buckets.calls <= 2400 // 60 + 2, buckets.calls


def test_two_workers_allow_the_rate_plus_at_most_a_block_each(engine: Engine) -> None:
    per_minute, block = 3000, block_size(3000)
    buckets = CountingBuckets(SqlBuckets(engine))
    workers = [leased(buckets), leased(buckets)]
    for worker in workers:  # each holds a block (less the token spent) as the flood begins
        assert worker.acquire("k-flood", per_minute) == 0.0
    allowed, seconds = take_from_threads(workers, "k-flood", per_minute, 2 * per_minute)
    refill = per_minute / 60.0 * seconds
    assert allowed <= per_minute - 2 + refill + 2 * block, (allowed, seconds)
    # Blocks left unspent in a worker at the end are all it may fall short by.
    assert allowed >= per_minute - 2 - 2 * block, (allowed, seconds)
    # A write per block, and once drained one per worker per refilled token at most (each
    # refusal is remembered until the next token is due).
    most_calls = (allowed + 2) / block + 2 + 2 * refill
    assert buckets.calls <= most_calls, (buckets.calls, allowed, seconds)


def test_idle_buckets_are_forgotten(engine: Engine) -> None:
    clock = [0.0]
    limiter = SqlRateLimiter(engine, TokenBucketLimiter(), monotonic=lambda: clock[0])
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO service_rate_buckets VALUES "
                "('client:198.51.100.1', 0, extract(epoch FROM now()) - 600, false)"
            )
        )
    limiter.acquire("k-fresh", 5)
    clock[0] = IDLE_SECONDS + 1  # the sweep is due
    limiter.acquire("k-fresh", 5)
    with engine.connect() as conn:
        buckets = set(conn.execute(text("SELECT bucket FROM service_rate_buckets")).scalars())
    assert "client:198.51.100.1" not in buckets
    assert "k-fresh" in buckets


def test_a_database_error_falls_back_to_limits_per_process() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/none")
    clock = [0.0]
    limiter = SqlRateLimiter(engine, TokenBucketLimiter(), monotonic=lambda: clock[0])
    try:
        assert [limiter.acquire("k", 2) > 0 for _ in range(3)] == [False, False, True]
    finally:
        engine.dispose()


def test_the_migration_matches_the_table_definition(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from safeguard.storage.sql.schema import metadata

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [diff for diff in diffs if "service_rate_buckets" in repr(diff)] == []
