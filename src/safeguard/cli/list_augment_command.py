"""`safeguard lists augment NAME --originals DIR`: publish augmentation hashes with a list."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.lists_commands import lists_app
from safeguard.cli.output import emit_json


def _pictures(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every regular file under `folder`, by sorted path (the service skips non-pictures)."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        yield str(path.relative_to(folder)), path.read_bytes()


@lists_app.command("augment")
def augment_command(
    name: Annotated[str, typer.Argument(help="The list whose entries the originals belong to.")],
    originals: Annotated[
        Path,
        typer.Option(
            "--originals",
            help="Folder of held originals (each must match an entry by SHA-256, SHA-1 or MD5).",
            exists=True,
            file_okay=False,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    wait: Annotated[
        bool,
        typer.Option(
            help="Re-match past uploads before returning (--no-wait: leave it to the server "
            "or `lists retroactive run`)."
        ),
    ] = True,
    db: DbOption = None,
) -> None:
    """Add the PDQ hashes of each original's likely crops and small rotations to the list.

    Anyone who holds the list then finds cropped and slightly turned copies from the list
    alone. Each original must match an entry of the list by SHA-256, SHA-1 or MD5; others
    are skipped with the reason. Entries are named ENTRY#LABEL, keep the entry's category
    and provenance, and are audited. Running it again replaces them. Past uploads are then
    re-matched against them by retroactive jobs (see `safeguard lists retroactive`).
    """
    # Registered on `lists_app`, so imported only once this module is.
    from safeguard.cli.retroactive_commands import job_line, job_record

    with errors_to_exit():
        service = services_for(db).list_augmentation
        outcome = service.augment(
            name, _pictures(originals), f"cli:{getpass.getuser()}", None if wait else 0
        )
    if as_json:
        emit_json(
            {
                "list_name": outcome.list_name,
                "originals_read": outcome.originals_read,
                "originals_matched": outcome.originals_matched,
                "entries_written": outcome.entries_written,
                "skipped": [{"name": n, "reason": r} for n, r in outcome.skipped],
                "retroactive_hits": outcome.retroactive_hits,
                "retroactive_jobs": [job_record(job) for job in outcome.retroactive_jobs],
            }
        )
        return
    typer.echo(
        f"Augmented {name!r}: {outcome.originals_matched:,} of {outcome.originals_read:,} "
        f"originals matched an entry; {outcome.entries_written:,} augmentation entries written."
    )
    for skipped_name, reason in outcome.skipped:
        typer.echo(f"  skipped {skipped_name}: {reason}")
    if outcome.retroactive_hits:
        typer.echo(f"{outcome.retroactive_hits:,} past uploads now match.")
    for job in outcome.retroactive_jobs:
        if job.note or not job.state.is_final:
            typer.echo(job_line(job), err=True)
