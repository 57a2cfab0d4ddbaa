from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from safeguard.batch.local_pool import LocalPoolRunner
from safeguard.bootstrap import build_services
from safeguard.hashing.contract import HashOptions
from safeguard.services.hashing import WORKER_MODULES, hash_each, hash_paths, iter_media_paths
from safeguard.settings import Settings
from tests import media_factories as media


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    media.write_jpeg(root / "b.jpg", seed=1)
    media.write_png(root / "a" / "z.png", seed=2)
    media.write_png(root / "a" / "deeper" / "y.png", seed=3)
    (root / "c.txt").write_text("notes")
    outside = tmp_path / "outside"
    media.write_jpeg(outside / "secret.jpg", seed=4)
    (root / "link-to-outside").symlink_to(outside, target_is_directory=True)
    (root / "link-to-file.jpg").symlink_to(outside / "secret.jpg")
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    return root


def test_walk_is_sorted_recursive_and_never_follows_links(tree: Path) -> None:
    found = [p.relative_to(tree).as_posix() for p in iter_media_paths([tree])]
    assert found == ["a/deeper/y.png", "a/z.png", "b.jpg", "c.txt"]


def test_roots_keep_their_order_and_files_pass_through(tree: Path, tmp_path: Path) -> None:
    single = tmp_path / "outside" / "secret.jpg"
    found = list(iter_media_paths([single, tree / "a"]))
    assert found == [single, tree / "a" / "deeper" / "y.png", tree / "a" / "z.png"]


def test_a_root_that_is_a_link_is_followed(tree: Path) -> None:
    assert [p.name for p in iter_media_paths([tree / "link-to-outside"])] == ["secret.jpg"]


@pytest.mark.parametrize("workers", [1, 2])
def test_hash_paths_in_stable_order(tree: Path, workers: int) -> None:
    runner = LocalPoolRunner(workers, preload=WORKER_MODULES)
    results = list(hash_paths([tree], HashOptions(), runner))
    assert [Path(r.path).name for r in results] == ["y.png", "z.png", "b.jpg", "c.txt"]
    for result in results:
        assert result.error is None
        assert result.digests[next(iter(result.digests))]
        data = Path(result.path).read_bytes()
        assert result.as_record()["sha256"] == hashlib.sha256(data).hexdigest()
    assert [r.pdq is not None for r in results] == [True, True, True, False]


def test_bad_files_do_not_stop_the_run(tmp_path: Path) -> None:
    good = media.write_png(tmp_path / "good.png")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    cut = media.truncated_jpeg(tmp_path / "cut.jpg")
    results = list(hash_each([empty, cut, good], HashOptions(), LocalPoolRunner(2)))
    assert [r.error is None for r in results] == [False, False, True]


def test_bootstrap_wires_runner_and_options(settings: Settings) -> None:
    services = build_services(settings.with_overrides(pdq_mode="reference", workers=3))
    assert services.batch_runner().workers == 3
    assert services.batch_runner(1).workers == 1
    assert services.hash_options.pdq_mode == "reference"
    assert services.hash_options.max_image_pixels == settings.max_image_pixels
