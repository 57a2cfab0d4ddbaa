"""`BatchRunner` on this machine: a process pool, or the calling process for one worker.

Processes rather than threads because PDQ and image decoding hold the GIL for part of
their work. Workers start with ``forkserver`` (Linux) so that a parent holding threads
(a progress bar, a web server) never forks with a lock held; the modules named in
`preload` are imported once in the fork server so each worker starts warm.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 4
"""Items submitted ahead per worker: enough to hide IPC latency, small enough to bound memory."""


class LocalPoolRunner:
    """Ordered parallel map over a local process pool (see `BatchRunner` for the contract).

    ``workers=1`` runs everything in the calling process, with no pool and no pickling;
    that is the mode for tests, debugging and tiny jobs.

    A worker that dies (segfault in a decoder, out-of-memory kill, ``os._exit``) breaks
    the pool for every item in flight. The runner then starts a fresh pool and re-runs
    those items one at a time, so only the item that kills its worker again gets an error
    result; the others get their normal results.
    """

    def __init__(self, workers: int, preload: Sequence[str] = ()) -> None:
        """Create a runner for `workers` processes (at least 1).

        Args:
            workers: processes to use; 1 means in-process.
            preload: modules the fork server imports once, e.g. the module of `func`.
        """
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._workers = workers
        self._preload = tuple(preload)

    @property
    def workers(self) -> int:
        """How many items may run at the same time."""
        return self._workers

    def map_ordered(
        self,
        func: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R] | None = None,
    ) -> Iterator[R]:
        """Apply `func` to each item, yielding results in input order."""
        if self._workers == 1:
            return self._map_in_process(func, items, on_error)
        return self._map_in_pool(func, items, on_error)

    @staticmethod
    def _map_in_process(
        func: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R] | None,
    ) -> Iterator[R]:
        for item in items:
            try:
                result = func(item)
            except Exception as exc:
                if on_error is None:
                    raise
                result = on_error(item, exc)
            yield result

    def _new_pool(self) -> ProcessPoolExecutor:
        if sys.platform.startswith("linux"):
            context = multiprocessing.get_context("forkserver")
            if self._preload:
                context.set_forkserver_preload(list(self._preload))
        else:
            context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=self._workers, mp_context=context)

    def _map_in_pool(
        self,
        func: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R] | None,
    ) -> Iterator[R]:
        source = iter(items)
        limit = self._workers * IN_FLIGHT_PER_WORKER
        pool = self._new_pool()
        pending: deque[tuple[T, Future[R]]] = deque()
        try:
            while True:
                while len(pending) < limit:
                    item = next(source, _END)
                    if item is _END:
                        break
                    pending.append((item, _submit(pool, func, item)))  # type: ignore[arg-type]
                if not pending:
                    return
                item, future = pending.popleft()
                try:
                    result = future.result()
                except BrokenProcessPool:
                    pool.shutdown(wait=True, cancel_futures=True)
                    suspects = [item, *(queued for queued, _ in pending)]
                    pending.clear()
                    yield from self._isolate(func, suspects, on_error)
                    pool = self._new_pool()
                    continue
                except Exception as exc:
                    if on_error is None:
                        raise
                    result = on_error(item, exc)
                yield result
        finally:
            for _, future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def _isolate(
        self,
        func: Callable[[T], R],
        suspects: list[T],
        on_error: Callable[[T, BaseException], R] | None,
    ) -> Iterator[R]:
        # One item at a time in a fresh pool: a crash now belongs to exactly this item.
        pool = self._new_pool()
        try:
            for item in suspects:
                try:
                    yield pool.submit(func, item).result()
                except BrokenProcessPool as exc:
                    pool.shutdown(wait=True)
                    pool = self._new_pool()
                    if on_error is None:
                        raise
                    yield on_error(item, exc)
                except Exception as exc:
                    if on_error is None:
                        raise
                    yield on_error(item, exc)
        finally:
            pool.shutdown(wait=True)


_END: object = object()


def _submit(pool: ProcessPoolExecutor, func: Callable[[T], R], item: T) -> Future[R]:
    """Submit, turning a pool that broke before this call into a failed future.

    A worker can die between two submissions; the item is then handled like the other
    items in flight (re-run in isolation) instead of the error escaping the map.
    """
    try:
        return pool.submit(func, item)
    except BrokenProcessPool as exc:
        failed: Future[R] = Future()
        failed.set_exception(exc)
        return failed
