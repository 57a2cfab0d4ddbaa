"""`safeguard lists retroactive ...`: see, run, resume and cancel retroactive jobs.

Adding entries to a list re-matches past uploads through a job that is saved after every
batch. `lists import` and `lists augment` run their jobs to the end before they return
(unless ``--no-wait``); a running server (`safeguard serve`) runs jobs left pending, and so
does `run` here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeguard.cli.context import DbOption, cli_actor, errors_to_exit, services_for
from safeguard.cli.lists_commands import lists_app
from safeguard.cli.output import emit_json

if TYPE_CHECKING:
    from safeguard.domain.retroactive_jobs import RetroactiveJob

retroactive_app = typer.Typer(
    help="Retroactive jobs: re-matching of past uploads after entries are added to a list."
)
lists_app.add_typer(retroactive_app, name="retroactive", no_args_is_help=True)


def job_record(job: RetroactiveJob) -> dict[str, object]:
    """A job as one JSON object (the same fields as the HTTP API's)."""
    return {
        "job_id": job.job_id,
        "list_name": job.list_name,
        "state": job.state.value,
        "entries": None if job.entry_ids is None else len(job.entry_ids),
        "cursor": job.cursor,
        "uploads_checked": job.uploads_checked,
        "hits": job.hits,
        "hit_limit": job.hit_limit,
        "created_at": job.created_at.isoformat(),
        "created_by": job.created_by,
        "updated_at": job.updated_at.isoformat() if job.updated_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "note": job.note,
    }


def job_line(job: RetroactiveJob) -> str:
    """One line for a person: the job, its state, progress and why it is held."""
    line = (
        f"Retroactive job {job.job_id} of {job.list_name!r}: {job.state.value}, "
        f"{job.uploads_checked:,} past uploads checked, {job.hits:,} acted on"
    )
    return f"{line} ({job.note})." if job.note else f"{line}."


@retroactive_app.command("show")
def show_command(
    name: Annotated[str | None, typer.Argument(help="One list (default: every list).")] = None,
    limit: Annotated[int, typer.Option(help="Newest jobs shown at most.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per job.")] = False,
    db: DbOption = None,
) -> None:
    """Show retroactive jobs, newest first: state, progress, hits, and why one is held."""
    with errors_to_exit():
        jobs = services_for(db, read_only=True).retroactive_jobs.jobs(name, limit)
    if as_json:
        for job in jobs:
            emit_json(job_record(job))
        return
    if not jobs:
        typer.echo("No retroactive jobs.")
        return
    table = Table()
    for column in ("job", "list", "state", "entries", "checked", "hits", "limit", "note"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        table.add_row(
            str(job.job_id),
            job.list_name,
            job.state.value,
            "all" if job.entry_ids is None else f"{len(job.entry_ids):,}",
            f"{job.uploads_checked:,}",
            f"{job.hits:,}",
            "none" if job.hit_limit is None else f"{job.hit_limit:,}",
            job.note or "",
        )
    Console().print(table)


@retroactive_app.command("run")
def run_command(db: DbOption = None) -> None:
    """Run the jobs left pending (or left by a process that died) here, to their end."""
    with errors_to_exit():
        jobs = services_for(db).retroactive_jobs.run_pending()
    if not jobs:
        typer.echo("No retroactive job was waiting.")
    for job in jobs:
        typer.echo(job_line(job))


@retroactive_app.command("resume")
def resume_command(
    job_id: Annotated[int, typer.Argument(help="The held job.")],
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help="Hold it again once its hits reach this many in all (default: never).",
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Run it here to its end (--no-wait: leave it to the server).")
    ] = True,
    db: DbOption = None,
) -> None:
    """Let a job held at its hit limit go on (audited)."""
    with errors_to_exit():
        jobs = services_for(db).retroactive_jobs
        job = jobs.resume(job_id, cli_actor(), limit)
        if wait:
            jobs.run_pending()
            job = jobs.get(job_id)
    typer.echo(job_line(job))


@retroactive_app.command("cancel")
def cancel_command(
    job_id: Annotated[int, typer.Argument(help="The job to stop.")], db: DbOption = None
) -> None:
    """Stop a job that has not ended; what it acted on stays (audited)."""
    with errors_to_exit():
        job = services_for(db).retroactive_jobs.cancel(job_id, cli_actor())
    typer.echo(job_line(job))
