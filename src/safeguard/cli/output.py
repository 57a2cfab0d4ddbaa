"""Terminal output: JSON lines for scripts, rich progress bars for people."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from safeguard.domain.hash_lists import HashList

stderr_console = Console(stderr=True)


class OutputClosedError(Exception):
    """The reader of stdout went away (``| head``); the command should end quietly."""


def silence_stdout() -> None:
    """Point stdout at /dev/null so that nothing more, not even the final flush, fails."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def emit_json(record: dict[str, Any], *, keep_going: bool = False) -> None:
    """Print one JSON object on one line to stdout and flush, for pipes.

    When the reader has gone (``safeguard match --json . | head``), stdout is silenced and
    `OutputClosedError` is raised so the command ends quietly (exit status 0); with
    ``keep_going`` (a scan, whose work matters more than its output) it carries on silently.
    """
    try:
        sys.stdout.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    except BrokenPipeError as exc:
        silence_stdout()
        if not keep_going:
            raise OutputClosedError from exc


def emit_json_lines(records: Iterable[dict[str, Any]]) -> None:
    """`emit_json` for many objects with one write and one flush (batch output)."""
    lines = [json.dumps(record, default=str, ensure_ascii=False) + "\n" for record in records]
    sys.stdout.write("".join(lines))
    sys.stdout.flush()


class ProgressSink(Protocol):
    """What a long job reports to: units done, optional bytes done."""

    def advance(self, units: int = 1, nbytes: int = 0) -> None:
        """Record progress."""

    def set_total(self, units: int | None, nbytes: int | None = None) -> None:
        """Set or change the expected totals."""


class _NoProgress:
    def advance(self, units: int = 1, nbytes: int = 0) -> None:
        return None

    def set_total(self, units: int | None, nbytes: int | None = None) -> None:
        return None


class _RichProgress:
    def __init__(self, progress: Progress, task: Any, byte_task: Any) -> None:
        self._progress = progress
        self._task = task
        self._byte_task = byte_task

    def advance(self, units: int = 1, nbytes: int = 0) -> None:
        self._progress.advance(self._task, units)
        if nbytes:
            self._progress.advance(self._byte_task, nbytes)

    def set_total(self, units: int | None, nbytes: int | None = None) -> None:
        self._progress.update(self._task, total=units)
        if nbytes is not None:
            self._progress.update(self._byte_task, total=nbytes)


class _RateColumn(ProgressColumn):
    """Units per second (files/s), not bytes per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f}/s", style="progress.data.speed")


@contextmanager
def progress_bar(
    description: str, total: int | None = None, enabled: bool = True
) -> Iterator[ProgressSink]:
    """A progress bar with rate and ETA on stderr when it is a terminal; silent otherwise."""
    if not enabled or not stderr_console.is_terminal:
        yield _NoProgress()
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        console=stderr_console,
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total)
        byte_task = progress.add_task("bytes", total=None, visible=False)
        yield _RichProgress(progress, task, byte_task)


def announce_lists(hash_lists: Sequence[HashList], threshold_of: Callable[[HashList], int]) -> None:
    """Say on stderr which lists (and versions) a match or scan checks, or that none is.

    A run with no enabled list reports every file as unknown; it must never look like a
    clean result.
    """
    if not hash_lists:
        stderr_console.print(
            "[yellow]warning:[/yellow] no hash list is enabled, so nothing is checked and "
            "every file will be unknown; import one with `safeguard lists import FILE`",
            highlight=False,
            soft_wrap=True,
        )
        return
    described = []
    for hash_list in hash_lists:
        version = f" v{hash_list.version}" if hash_list.version else " (no version stated)"
        described.append(
            f"{hash_list.name}{version} ({hash_list.kind.value}, PDQ threshold "
            f"{threshold_of(hash_list)})"
        )
    noun = "list" if len(described) == 1 else "lists"
    stderr_console.print(
        f"Checking against {len(described)} {noun}: {'; '.join(described)}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
