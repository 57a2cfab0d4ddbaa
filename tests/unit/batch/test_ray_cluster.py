"""RayRunner against a local two-CPU Ray started once for the module.

The behaviours are those of the local-pool tests: order, back-pressure, exceptions as
error results, a dying worker failing only its own item, and `hash_paths` agreeing with
the in-process runner. Images are generated benign stand-ins.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguard.batch.contract import BatchRunner
from safeguard.batch.local_pool import LocalPoolRunner
from safeguard.bootstrap import build_services
from safeguard.domain.errors import ConfigurationError
from safeguard.hashing.contract import HashOptions
from safeguard.services.demo.pictures import write_photo
from safeguard.services.hashing import hash_paths
from safeguard.settings import Settings, load_settings
from tests.conftest import require_module
from tests.unit.batch.tasks import (
    as_error,
    assert_is_batch_runner,
    die_on_three,
    fail_on_three,
    pid_of,
    square,
)

ray = require_module("ray", "the 'cluster' extra (ray) is not installed")

from safeguard.batch.ray_cluster import RayRunner  # noqa: E402 - only with ray installed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runner() -> Iterator[RayRunner]:
    # Loopback only. A local Ray hands the driver's sys.path to its workers, so they can
    # import the functions of this test module.
    options = {"_node_ip_address": "127.0.0.1"}
    with RayRunner(workers=2, task_retries=0, init_options=options) as started:
        yield started
    assert not ray.is_initialized()


def test_is_a_batch_runner(runner: RayRunner) -> None:
    as_port: BatchRunner = runner
    assert_is_batch_runner(as_port)
    assert as_port.workers == 2


def test_results_in_input_order(runner: RayRunner) -> None:
    assert list(runner.map_ordered(square, range(25))) == [x * x for x in range(25)]


def test_empty_input(runner: RayRunner) -> None:
    assert list(runner.map_ordered(square, [])) == []


def test_runs_in_other_processes(runner: RayRunner) -> None:
    assert os.getpid() not in set(runner.map_ordered(pid_of, range(4)))


def test_exception_becomes_error_result_with_the_original_exception(runner: RayRunner) -> None:
    seen: list[BaseException] = []

    def record(item: int, exc: BaseException) -> int:
        seen.append(exc)
        return -item

    assert list(runner.map_ordered(fail_on_three, range(6), record)) == [0, 1, 2, -3, 4, 5]
    assert [type(exc) for exc in seen] == [ValueError]


def test_exception_propagates_without_on_error(runner: RayRunner) -> None:
    with pytest.raises(ValueError, match="three"):
        list(runner.map_ordered(fail_on_three, range(6)))


def test_worker_crash_on_one_item_is_an_error_result_not_a_dead_job(runner: RayRunner) -> None:
    assert list(runner.map_ordered(die_on_three, range(8), as_error)) == [
        -3 if x == 3 else x for x in range(8)
    ]


def test_worker_crash_propagates_without_on_error(runner: RayRunner) -> None:
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        list(runner.map_ordered(die_on_three, range(5)))


def test_input_is_consumed_lazily_with_back_pressure(runner: RayRunner) -> None:
    consumed = 0

    def items() -> Iterator[int]:
        nonlocal consumed
        for x in range(1000):
            consumed += 1
            yield x

    results = runner.map_ordered(square, items())
    assert next(results) == 0
    assert consumed <= 2 * 4 + 1
    results.close()  # type: ignore[attr-defined]


def test_hash_paths_matches_the_in_process_runner(runner: RayRunner, tmp_path: Path) -> None:
    for seed in range(4):
        write_photo(tmp_path / f"photo_{seed}.jpg", seed, 160, 120)
    (tmp_path / "empty.jpg").write_bytes(b"")
    options = HashOptions()

    on_ray = list(hash_paths([tmp_path], options, runner))
    in_process = list(hash_paths([tmp_path], options, LocalPoolRunner(1)))

    assert on_ray == in_process
    assert len(on_ray) == 5
    assert sum(1 for hashes in on_ray if hashes.error) == 1


def test_settings_are_checked_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="workers"):
        RayRunner(workers=-1)
    with pytest.raises(ValueError, match="task_retries"):
        RayRunner(task_retries=-1)


def test_backend_and_address_come_from_the_environment() -> None:
    settings = load_settings(
        {"SAFEGUARD_BATCH_BACKEND": "ray", "SAFEGUARD_RAY_ADDRESS": "ray://head:10001"}
    )
    assert (settings.batch_backend, settings.ray_address) == ("ray", "ray://head:10001")
    assert load_settings({}).batch_backend == "local"


def test_unknown_backend_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="batch_backend"):
        Settings(batch_backend="dask")


def test_bootstrap_builds_a_ray_runner_without_starting_ray(tmp_path: Path) -> None:
    # Constructing must stay cheap: Ray starts (or connects) on the first map only.
    settings = Settings(data_dir=tmp_path, batch_backend="ray", ray_address="ray://head:10001")
    runner = build_services(settings).batch_runner(3)
    assert isinstance(runner, RayRunner)
    local = build_services(Settings(data_dir=tmp_path)).batch_runner(3)
    assert isinstance(local, LocalPoolRunner)
    assert local.workers == 3
