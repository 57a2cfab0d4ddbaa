from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from safeguard.batch.contract import BatchRunner
from safeguard.batch.local_pool import LocalPoolRunner
from tests.unit.batch.tasks import (
    as_error,
    assert_is_batch_runner,
    die_on_three,
    fail_on_three,
    pid_of,
    square,
)


@pytest.fixture(params=[1, 2], ids=["in-process", "pool"])
def runner(request: pytest.FixtureRequest) -> LocalPoolRunner:
    return LocalPoolRunner(request.param)


def test_is_a_batch_runner() -> None:
    runner: BatchRunner = LocalPoolRunner(2)
    assert_is_batch_runner(runner)
    assert runner.workers == 2
    assert list(runner.map_ordered(square, [3, 1, 2])) == [9, 1, 4]


def test_results_in_input_order(runner: LocalPoolRunner) -> None:
    assert list(runner.map_ordered(square, range(25))) == [x * x for x in range(25)]


def test_empty_input(runner: LocalPoolRunner) -> None:
    assert list(runner.map_ordered(square, [])) == []


def test_exception_becomes_error_result(runner: LocalPoolRunner) -> None:
    assert list(runner.map_ordered(fail_on_three, range(6), as_error)) == [0, 1, 2, -3, 4, 5]


def test_exception_propagates_without_on_error(runner: LocalPoolRunner) -> None:
    with pytest.raises(ValueError, match="three"):
        list(runner.map_ordered(fail_on_three, range(6)))


def test_worker_crash_on_one_item_is_an_error_result_not_a_dead_job() -> None:
    runner = LocalPoolRunner(2)
    assert list(runner.map_ordered(die_on_three, range(12), as_error)) == [
        -3 if x == 3 else x for x in range(12)
    ]


def test_in_process_runner_uses_the_calling_process() -> None:
    assert set(LocalPoolRunner(1).map_ordered(pid_of, range(3))) == {os.getpid()}


def test_pool_runs_elsewhere() -> None:
    assert os.getpid() not in set(LocalPoolRunner(2).map_ordered(pid_of, range(4)))


def test_input_is_consumed_lazily_with_back_pressure() -> None:
    consumed = 0

    def items() -> Iterator[int]:
        nonlocal consumed
        for x in range(1000):
            consumed += 1
            yield x

    results = LocalPoolRunner(2).map_ordered(square, items())
    assert next(results) == 0
    assert consumed <= 2 * 4 + 1
    results.close()  # type: ignore[attr-defined]


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LocalPoolRunner(0)
