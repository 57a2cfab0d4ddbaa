"""Use case: hash the files under some paths, in parallel, results in a stable order."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

from safeguard.batch.contract import BatchRunner
from safeguard.domain.errors import UnreadableFileError
from safeguard.domain.file_hashes import FileHashes
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_file

WORKER_MODULES: tuple[str, ...] = ("safeguard.services.hashing",)
"""Modules a process-pool runner should preload for `hash_paths`."""


def iter_media_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Every file named by `paths`, folders walked recursively, in a stable order.

    The roots come out in the order given; inside a folder, entries are visited in sorted
    name order, depth first. A root that is itself a symbolic link is followed (the user
    named it), but links found inside folders are never followed, neither to folders
    (which could loop or lead out of the root) nor to files (which may live outside it).
    Anything that is not a folder, including a broken link, is yielded as is so that
    hashing reports why it cannot be read. Folders that cannot be listed are skipped.
    """
    for root in paths:
        if root.is_dir():
            yield from _walk(root)
        else:
            yield root


def _walk(folder: Path) -> Iterator[Path]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.is_symlink():
            continue
        path = folder / entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif entry.is_file(follow_symlinks=False):
            yield path


def hash_paths(
    paths: Iterable[Path], options: HashOptions, runner: BatchRunner
) -> Iterator[FileHashes]:
    """Hash every file under `paths` (see `iter_media_paths`) with `runner`, in that order.

    One result per file, never an exception for a bad file: unreadable, empty, corrupt or
    oversized files come back with ``error`` set, and a worker that dies on one file gives
    that file an error record.
    """
    return hash_each(iter_media_paths(paths), options, runner)


def hash_each(
    files: Iterable[Path], options: HashOptions, runner: BatchRunner
) -> Iterator[FileHashes]:
    """Hash exactly these files (no folder walking) with `runner`, in input order."""
    return runner.map_ordered(partial(_hash_one, options=options), files, _hash_failed)


def _hash_one(path: Path, options: HashOptions) -> FileHashes:
    return hash_file(path, options)


def _hash_failed(path: Path, exc: BaseException) -> FileHashes:
    error = UnreadableFileError(f"hashing stopped on this file: {type(exc).__name__}: {exc}")
    return FileHashes(str(path), None, error=f"{type(error).__name__}: {error}")
