"""`BatchRunner` on a Ray cluster: the same ordered, back-pressured map, spread over machines.

When Ray pays: several machines share one exhibit store (the same paths mounted on every
node) or one upload queue, and one box's cores are not enough. Each item becomes one Ray
task on whichever node has a free CPU, and the results still come back in input order.

When it does not: on one box. Once warm a local Ray hashes about as fast as the process
pool, but starting it takes seconds, its daemons and object store cost memory and listen
on every interface, so `LocalPoolRunner` wins there; the ``ray`` backend on a single
machine is for trying the cluster set-up before there is a cluster.

What a cluster needs: ``safeguard[cluster]`` of the same version installed on every node
(Ray ships `func` by reference to its module, so the workers import the same code), and
the files named in the items readable at the same paths on every node. `hash_paths`
items are paths, so the driver copies nothing off the exhibit store; items that carry
file contents (triage of containers) travel through Ray's object store instead, which
may spill them to the nodes' local disks.

Ray is imported when a runner first starts, never at module import: the ``cluster``
extra is optional.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from safeguard.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from ray import ObjectRef

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 4
"""Tasks submitted ahead per worker: hides scheduling latency while bounding memory."""


class RayRunner:
    """Ordered parallel map as Ray tasks (see `BatchRunner` for the contract).

    Ray starts on first use, not in the constructor. With an `address` the runner
    connects to that cluster (``auto`` for the cluster this machine belongs to, or a
    ``ray://host:10001`` client address); without one it starts a local Ray with
    `workers` CPUs. If Ray is already initialised in this process (a caller set it up),
    the runner uses it as it is and leaves it running on `close`.

    Each item is its own task, so a worker that dies (a decoder segfault, an
    out-of-memory kill, ``os._exit``) fails only the task it was running: that item gets
    an error result and the others carry on. Failures of the Ray system itself (a node
    lost, an object lost) are retried `task_retries` times before they count as the
    item's failure; exceptions raised by `func` are never retried.

    Concurrency: at most ``workers * in_flight_per_worker`` tasks are submitted at once.
    Ray runs as many of them as it has free CPUs, so on a local Ray (``workers`` CPUs) or
    with ``workers=0`` (every CPU of the cluster) `workers` items run at a time; with an
    explicit `workers` on a larger cluster up to the in-flight bound may run.
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int = 0,
        *,
        task_retries: int = 1,
        in_flight_per_worker: int = IN_FLIGHT_PER_WORKER,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Describe the runner; nothing starts until the first map or `workers` call.

        Args:
            address: cluster to connect to (``auto`` or ``ray://host:port``); None or
                empty starts a local Ray that `close` shuts down.
            workers: tasks to run at the same time; 0 means every CPU of the cluster
                (of this machine for a local Ray).
            task_retries: re-runs of a task whose worker or node died before it counts
                as failed; 0 makes a crash an error result at once.
            in_flight_per_worker: tasks submitted ahead per worker (back-pressure bound).
            init_options: extra keyword arguments for ``ray.init`` (e.g. ``runtime_env``,
                ``namespace``, ``object_store_memory``).
        """
        if workers < 0:
            raise ValueError("workers must be 0 (every CPU) or more")
        if task_retries < 0:
            raise ValueError("task_retries must be 0 or more")
        if in_flight_per_worker < 1:
            raise ValueError("in_flight_per_worker must be at least 1")
        self._address = address or None
        self._requested_workers = workers
        self._task_retries = task_retries
        self._in_flight_per_worker = in_flight_per_worker
        self._init_options = dict(init_options or {})
        self._owns_ray = False
        self._started = False
        self._workers = workers

    @property
    def workers(self) -> int:
        """How many items may run at the same time (starts or connects to Ray if needed)."""
        self._start()
        return self._workers

    def map_ordered(
        self,
        func: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R] | None = None,
    ) -> Iterator[R]:
        """Apply `func` to each item as Ray tasks, yielding results in input order."""
        self._start()
        return self._map(func, items, on_error)

    def close(self) -> None:
        """Shut down the local Ray, or disconnect from the cluster, if this runner started it."""
        if self._owns_ray:
            import ray

            ray.shutdown()
            self._owns_ray = False
        self._started = False

    def __enter__(self) -> RayRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start(self) -> None:
        _keep_workers_on_the_installed_package()
        try:
            import ray
        except ImportError as exc:
            raise ConfigurationError(
                "the ray batch backend needs the 'cluster' extra: install safeguard[cluster]"
            ) from exc

        if self._started and ray.is_initialized():
            return
        if not ray.is_initialized():
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if self._address is None:
                options["num_cpus"] = self._requested_workers or _local_cpus()
            options.update(self._init_options)
            # "local" starts a Ray of our own even when this machine runs a Ray cluster
            # (`ray start` leaves its address where a plain init would join it).
            ray.init(address=self._address or "local", **options)
            self._owns_ray = True
        if not self._requested_workers:
            cpus = ray.cluster_resources().get("CPU", 1)  # type: ignore[no-untyped-call]
            self._workers = max(1, int(cpus))
        self._started = True

    def _map(
        self,
        func: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R] | None,
    ) -> Iterator[R]:
        import ray
        from ray.exceptions import RayError, RayTaskError

        task: Any = ray.remote(num_cpus=1, max_retries=self._task_retries, retry_exceptions=False)(
            _apply
        )
        # One copy of the function in the object store, not one per task.
        func_ref = ray.put(func)
        source = iter(items)
        limit = self._workers * self._in_flight_per_worker
        pending: deque[tuple[T, ObjectRef[Any]]] = deque()
        try:
            while True:
                while len(pending) < limit:
                    item = next(source, _END)
                    if item is _END:
                        break
                    pending.append((item, task.remote(func_ref, item)))  # type: ignore[arg-type]
                if not pending:
                    return
                item, ref = pending.popleft()
                try:
                    result: R = ray.get(ref)
                except RayTaskError as exc:
                    # `func` raised: hand over its own exception, not Ray's wrapper.
                    cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                    if on_error is None:
                        if cause is exc:
                            raise
                        raise cause from exc
                    result = on_error(item, cause)
                except RayError as exc:
                    # The worker or node running this one task died, or its result was lost.
                    if on_error is None:
                        raise
                    result = on_error(item, exc)
                yield result
        finally:
            for _, ref in pending:
                _cancel_quietly(ref)


_END: object = object()


def _apply(func: Callable[[T], R], item: T) -> R:
    """The task body: Ray resolves `func` from its object-store reference before the call."""
    return func(item)


def _cancel_quietly(ref: ObjectRef[Any]) -> None:
    import ray

    # The task may be finished already, or Ray gone: there is nothing left to undo then.
    with contextlib.suppress(Exception):
        ray.cancel(ref)


def _keep_workers_on_the_installed_package() -> None:
    """Turn off Ray's ``uv run`` integration unless the user chose it explicitly.

    Under ``uv run`` Ray would zip the current folder (which may be an evidence or case
    folder) into the cluster and start every worker through ``uv run`` in that copy.
    Safeguard's workers use the package installed on each node instead.
    """
    os.environ.setdefault(_UV_HOOK_VARIABLE, "0")
    # Never report usage to Ray's makers: case work stays on the machines it runs on.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None and os.environ[_UV_HOOK_VARIABLE] == "0":
        # Ray was imported before the variable was set and read it already.
        setattr(constants, _UV_HOOK_VARIABLE, False)


_UV_HOOK_VARIABLE = "RAY_ENABLE_UV_RUN_RUNTIME_ENV"


def _local_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
