"""Top-level (picklable) tasks shared by the batch-runner tests."""

from __future__ import annotations

import os
import time


def square(x: int) -> int:
    # Later items finish first, so ordering is really tested.
    time.sleep(0.002 * (10 - x % 10))
    return x * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is bad")
    return x


def die_on_three(x: int) -> int:
    if x == 3:
        os._exit(1)  # a worker crash, as a decoder segfault would be
    return x


def pid_of(_: int) -> int:
    return os.getpid()


def as_error(item: int, exc: BaseException) -> int:
    return -item


def assert_is_batch_runner(candidate: object) -> None:
    """`candidate` has every member of the `BatchRunner` port, with the port's signatures."""
    import inspect

    from safeguard.batch.contract import BatchRunner

    members = [name for name in vars(BatchRunner) if not name.startswith("_")]
    assert members, "the port declares no members"
    for name in members:
        declared = inspect.getattr_static(BatchRunner, name)
        actual = inspect.getattr_static(type(candidate), name, None)
        assert actual is not None, f"{type(candidate).__name__} lacks {name}"
        if isinstance(declared, property):
            assert isinstance(actual, property) or not callable(actual), f"{name} is not a value"
            continue
        wanted = list(inspect.signature(declared).parameters)
        got = list(inspect.signature(actual).parameters)
        assert got == wanted, f"{name}{tuple(got)} differs from the port's {tuple(wanted)}"
