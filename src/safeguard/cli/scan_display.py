"""What a person sees while `safeguard scan` runs, when it is interrupted and when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from safeguard.cli.output import stderr_console
from safeguard.domain.cases import FileStatus

if TYPE_CHECKING:
    from safeguard.services.examiner.triage_model import ScanProgress


class ScanDisplay:
    """One progress line on stderr, known-bad files printed above it.

    It shows bytes (resumed work included), files N of total, labelled elapsed and remaining
    time, and the known-bad count.
    """

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task
        self.last: ScanProgress | None = None

    def __call__(self, event: ScanProgress) -> None:
        """Show one progress event."""
        self.last = event
        if event.event == "hit":
            self._progress.console.print(
                f"[bold red]known-bad[/bold red] {event.path} ({event.category})",
                markup=True,
                highlight=False,
            )
        done_files = event.files + event.skipped
        files = (
            f"{done_files:,} of {event.expected_files:,} files"
            if event.expected_files
            else f"{done_files:,} files"
        )
        bad = event.counts.get(FileStatus.KNOWN_BAD.value, 0)
        done_bytes = event.bytes + event.skipped_bytes
        self._progress.update(
            self._task,
            completed=done_bytes,
            total=max(event.expected_bytes or 0, done_bytes) or None,
            files=files,
            bad=f"{bad:,} known-bad",
        )


@contextmanager
def scan_display() -> Iterator[ScanDisplay]:
    """A transient progress line for a scan.

    It disappears when the scan ends or is interrupted, so the summary that follows is the
    last thing on the screen, printed once.
    """
    progress = Progress(
        TextColumn("[bold]scan"),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("remaining"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[bad]}"),
        console=stderr_console,
        transient=True,
    )
    with progress:
        task = progress.add_task("scan", total=None, files="starting", bad="")
        yield ScanDisplay(progress, task)


def interrupted_message(
    reference: str, recorded_total: int, this_run: int, resume_command: str
) -> str:
    """What a person reads after Ctrl-C: what is kept and how to go on."""
    return (
        f"Interrupted. Exhibit {reference} has {recorded_total:,} files recorded "
        f"({this_run:,} by this run); every finished file is committed and nothing is lost.\n"
        f"To resume, run the same command again:\n  {resume_command}"
    )


def finished_message(
    reference: str, recorded: int, skipped: int, nbytes: int, elapsed: float
) -> str:
    """The final line: files checked, with a real rate (never "?")."""
    rate = recorded / elapsed if elapsed > 0 else 0.0
    mb_rate = nbytes / elapsed / 1e6 if elapsed > 0 else 0.0
    resumed = f", {skipped:,} already done in an earlier run" if skipped else ""
    return (
        f"exhibit {reference}: {recorded:,} files checked in {elapsed:,.1f} s "
        f"({rate:,.1f} files/s, {mb_rate:,.1f} MB/s){resumed}"
    )
