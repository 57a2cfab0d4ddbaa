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
