"""Rate limits shared through PostgreSQL: two limiters (two replicas) take from one bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from safeguard.storage.memory_rate_limits import TokenBucketLimiter
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.rate_limits import IDLE_SECONDS, SqlRateLimiter
from tests.conftest import private_postgres_database

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
