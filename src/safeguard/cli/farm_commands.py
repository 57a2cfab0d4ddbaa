"""`safeguard farm submit|work|status`: many exhibits scanned by many machines into one case store."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import emit_json

farm_app = typer.Typer(
    help=(
        "A triage farm: queue exhibits in the shared case store and scan them on every "
        "machine of a Ray cluster (SAFEGUARD_BATCH_BACKEND=ray, SAFEGUARD_RAY_ADDRESS) or "
        "with this machine's process pool."
    )
)
app.add_typer(farm_app, name="farm", no_args_is_help=True)


@farm_app.command("submit")
def submit_command(
    exhibits: Annotated[list[Path], typer.Argument(help="Exhibits (same path on every node).")],
    case: Annotated[str, typer.Option("--case", help="The case number.")],
    db: DbOption = None,
) -> None:
    """Queue exhibits of a case for the farm (an exhibit already queued is not queued twice)."""
    with errors_to_exit():
        farm = services_for(db).triage_farm()
        jobs = farm.submit(case, exhibits, f"cli:{getpass.getuser()}")
    typer.echo(f"Queued {len(jobs)} of {len(exhibits)} exhibits for case {case}.")
    for job in jobs:
        typer.echo(f"  job {job.job_id}: {job.exhibit_reference} ({job.exhibit_path})")


@farm_app.command("work")
def work_command(
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Exhibits at once; 0: every CPU.")
    ] = 0,
    db: DbOption = None,
) -> None:
    """Take queued exhibits and scan them until none is left; safe to run on several machines."""

    def said(job_reference: str, error: str | None) -> None:
        typer.echo(f"  {job_reference}: {'done' if error is None else 'error: ' + error}")

    with errors_to_exit():
        farm = services_for(db).triage_farm(workers or None)
        outcome = farm.work(lambda job, error: said(job.exhibit_reference, error))
    typer.echo(
        f"Farm worker finished in {outcome.seconds:.1f} s: {len(outcome.done)} exhibits done, "
        f"{len(outcome.requeued)} queued again, {len(outcome.failed)} failed."
    )
    if outcome.failed:
        raise typer.Exit(1)


@farm_app.command("status")
def status_command(
    case: Annotated[str | None, typer.Option("--case", help="Only this case.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per job.")] = False,
    db: DbOption = None,
) -> None:
    """Every queued, running and finished exhibit scan, with the files recorded so far."""
    with errors_to_exit():
        progress = services_for(db).triage_farm().status(case)
    if as_json:
        for item in progress:
            job = item.job
            emit_json(
                {
                    "job_id": job.job_id,
                    "case": job.case_number,
                    "exhibit": job.exhibit_reference,
                    "path": job.exhibit_path,
                    "state": job.state.value,
                    "attempts": job.attempts,
                    "leased_by": job.leased_by,
                    "files_recorded": item.recorded,
                    "counts": {s.value: n for s, n in sorted(item.counts.items())},
                    "error": job.error,
                }
            )
        return
    if not progress:
        typer.echo("The farm's queue is empty; add exhibits with `safeguard farm submit`.")
        return
    table = Table()
    for column in ("job", "case", "exhibit", "state", "tries", "files", "known-bad", "worker"):
        table.add_column(column, overflow="fold")
    for item in progress:
        job = item.job
        known_bad = sum(n for s, n in item.counts.items() if s.value == "known-bad")
        table.add_row(
            str(job.job_id), job.case_number, job.exhibit_reference, job.state.value,
            str(job.attempts), f"{item.recorded:,}", f"{known_bad:,}", job.leased_by or "-",
        )  # fmt: skip
    Console().print(table)
