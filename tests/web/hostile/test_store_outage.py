"""`/readyz` against a PostgreSQL store that goes away and comes back; `/healthz` never fails.

A real two-worker server reaches the database through a loopback proxy in the test
(`db_proxy.DatabaseProxy`); cutting the proxy resets every connection and refuses new ones,
as a crashed or unreachable database server would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, private_postgres_database
from tests.web.hostile.conftest import Served, start_server, stop_server
from tests.web.hostile.db_proxy import DatabaseProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

NOT_READY_WITHIN = 3.0
READY_AGAIN_WITHIN = 15.0


@pytest.fixture(scope="module")
def through_proxy(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Served, DatabaseProxy]]:
    target = make_url(POSTGRES_URL)
    with private_postgres_database("guard_outage") as url:
        proxy = DatabaseProxy((target.host or "127.0.0.1", target.port or 5432))
        proxied = make_url(url).set(host="127.0.0.1", port=proxy.port)
        served = start_server(
            tmp_path_factory.mktemp("outage"),
            database_url=proxied.render_as_string(hide_password=False),
        )
        try:
            yield served, proxy
        finally:
            stop_server(served)
            proxy.cut()


def _statuses(served: Served, path: str, times: int = 6) -> list[int]:
    # Fresh connections, so that both workers answer.
    return [httpx.get(f"{served.base}{path}", timeout=5).status_code for _ in range(times)]


def test_readyz_follows_the_database_and_healthz_does_not(
    through_proxy: tuple[Served, DatabaseProxy],
) -> None:
    served, proxy = through_proxy
    workers = served.workers()
    assert _statuses(served, "/readyz") == [200] * 6
    proxy.cut()
    cut = time.monotonic()
    while _statuses(served, "/readyz") != [503] * 6:
        assert time.monotonic() - cut < NOT_READY_WITHIN, "still ready without a database"
        time.sleep(0.05)
    became_unready = time.monotonic() - cut
    answer = httpx.get(f"{served.base}/readyz", timeout=5)
    assert answer.json()["status"] == "store-unavailable"
    assert _statuses(served, "/healthz") == [200] * 6
    time.sleep(1.0)  # still not ready, still alive
    assert _statuses(served, "/readyz") == [503] * 6
    assert _statuses(served, "/healthz") == [200] * 6
    proxy.restore()
    restored = time.monotonic()
    while _statuses(served, "/readyz") != [200] * 6:
        assert time.monotonic() - restored < READY_AGAIN_WITHIN, "not ready again"
        time.sleep(0.1)
    print(
        f"unready {became_unready:.2f} s after the cut, "
        f"ready {time.monotonic() - restored:.2f} s after the restore"
    )
    assert served.workers() == workers, "a worker was replaced"
