"""`acquire_token`: a limiter that can answer in process is asked on the event loop."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from safeguard.web.client_limits import acquire_token


class Recording:
    """A limiter that answers locally while it holds tokens, recording which thread asks."""

    def __init__(self, local: float | None) -> None:
        self._local = local
        self.threads: list[tuple[str, int]] = []

    def acquire_locally(self, key: str, per_minute: int) -> float | None:
        self.threads.append(("locally", threading.get_ident()))
        return self._local

    def acquire(self, key: str, per_minute: int) -> float:
        self.threads.append(("acquire", threading.get_ident()))
        return 7.0


def _acquire(limiter: Recording) -> tuple[float, int]:
    async def run() -> tuple[float, int]:
        return await acquire_token(limiter, "k", 60), threading.get_ident()

    # A loop of its own in a thread of its own: this thread may already run one (the
    # browser tests' Playwright), where asyncio.run would refuse and leave `run` unawaited.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_a_local_answer_takes_no_thread_hop() -> None:
    limiter = Recording(local=0.0)
    wait, loop_thread = _acquire(limiter)
    assert wait == 0.0
    assert limiter.threads == [("locally", loop_thread)]


def test_a_round_trip_runs_in_a_thread() -> None:
    limiter = Recording(local=None)
    wait, loop_thread = _acquire(limiter)
    assert wait == 7.0
    (asked, on_loop), (acquired, elsewhere) = limiter.threads
    assert (asked, acquired) == ("locally", "acquire")
    assert on_loop == loop_thread != elsewhere
