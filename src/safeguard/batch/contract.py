"""The batch port: run a function over many items in parallel, results in input order.

Services depend on this protocol only; `safeguard.bootstrap` picks the implementation
(`safeguard.batch.local_pool.LocalPoolRunner` on one machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BatchRunner(Protocol):
    """Ordered parallel map with back-pressure.

    Contract for implementations:

    * results come out in the order of `items`, one per item;
    * `items` is consumed lazily: only a bounded number of items (a small multiple of the
      worker count) is in flight, so an endless generator is fine and memory stays flat;
    * `func` must be a picklable top-level callable (a module-level function, or a
      `functools.partial` of one with picklable arguments), and items and results must
      pickle too, since implementations may run it in other processes;
    * when `func` raises, or the worker running it dies, for one item: if `on_error` is
      given its return value stands in for that item's result and the run goes on;
      without `on_error` the exception propagates to the consumer;
    * closing the returned iterator early cancels work not yet started.
    """

    @property
    def workers(self) -> int:
        """How many items may run at the same time."""
        ...

    def map_ordered(
        self,
        func: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R] | None = None,
    ) -> Iterator[R]:
        """Apply `func` to each item, yielding results in input order."""
        ...
