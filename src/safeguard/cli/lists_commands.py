"""`safeguard lists ...`: import, show, export, enable/disable, tune and remove hash lists."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import emit_json, progress_bar
from safeguard.domain.hash_lists import HashList, ListKind

if TYPE_CHECKING:
    from safeguard.services.lists import ListService

# The same as services.lists.EXPORT_FORMATS (a test checks), named here so that `--help`
# does not import the list readers.
EXPORT_FORMATS = ("vics", "csv", "hashdeep")

lists_app = typer.Typer(help="Manage hash lists (known-bad, known-good, ignorable).")
app.add_typer(lists_app, name="lists", no_args_is_help=True)


def _record(service: ListService, hash_list: HashList, location: str | None) -> dict[str, object]:
    return {
        "name": hash_list.name,
        "kind": hash_list.kind.value,
        "source": hash_list.source,
        "version": hash_list.version,
        "imported_at": hash_list.imported_at.isoformat() if hash_list.imported_at else None,
        "entry_count": hash_list.entry_count,
        "enabled": hash_list.enabled,
        "pdq_threshold": service.threshold_of(hash_list),
        "own_pdq_threshold": hash_list.pdq_threshold,
        "action": hash_list.action,
        "in_place": location is not None,
        "location": location,
    }


def _service(db: str | None) -> ListService:
    return services_for(db).list_service


@lists_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="The list file.", exists=True, dir_okay=False)],
    name: Annotated[
        str | None, typer.Option(help="Name in the store (default: from the file).")
    ] = None,
    kind: Annotated[
        ListKind | None,
        typer.Option(help="What a match means (default: from the file, else known-bad)."),
    ] = None,
    format_name: Annotated[
        str | None,
        typer.Option(
            "--format", help="Reader: vics, csv, hashdeep, md5sum, nsrl (default: detect)."
        ),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Who issued the list.")] = None,
    version: Annotated[str | None, typer.Option(help="The issuer's version.")] = None,
    threshold: Annotated[
        int | None, typer.Option(min=0, max=256, help="This list's PDQ Hamming threshold.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="What a service does on a match (block, report, ...).")
    ] = None,
    lenient: Annotated[
        bool, typer.Option(help="Skip malformed records instead of refusing the file.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored list as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Import a hash list; all or nothing. Importing a name again replaces its entries.

    An NSRL RDSv3 database is registered and queried where it lies, not copied.
    """
    with errors_to_exit():
        service = _service(db)
        with progress_bar(f"Importing {file.name}") as progress:
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                progress.advance(count - done)
                done = count

            outcome = service.import_file(
                file,
                name=name,
                kind=kind,
                format_name=format_name,
                source=source,
                version=version,
                threshold=threshold,
                action=action,
                lenient=lenient,
                on_progress=advance,
            )
        stored = outcome.hash_list
        location = service.locations().get(stored.name)
        if as_json:
            record = _record(service, stored, location)
            record.update(format=outcome.format_name, skipped=outcome.report.skipped)
            emit_json(record)
            return
        if outcome.in_place:
            typer.echo(
                f"Registered {stored.name!r} ({stored.kind.value}) to be queried in place: "
                f"{location}"
            )
        else:
            typer.echo(
                f"Imported {stored.entry_count:,} entries into {stored.name!r} "
                f"({stored.kind.value}, {outcome.format_name})."
            )
        if outcome.report.skipped:
            typer.echo(f"Skipped {outcome.report.skipped:,} malformed records.", err=True)
            for problem in outcome.report.problems[:5]:
                typer.echo(f"  {problem}", err=True)


@lists_app.command("show")
def show_command(
    name: Annotated[str | None, typer.Argument(help="One list (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per list.")] = False,
    db: DbOption = None,
) -> None:
    """Show the lists: kind, entries, enabled, PDQ threshold, version."""
    with errors_to_exit():
        service = _service(db)
        chosen = [service.get(name)] if name else service.lists()
        locations = service.locations()
    records = [_record(service, hl, locations.get(hl.name)) for hl in chosen]
    if as_json:
        for record in records:
            emit_json(record)
        return
    if not records:
        typer.echo("No hash lists yet; add one with `safeguard lists import FILE`.")
        return
    table = Table()
    for column in ("name", "kind", "entries", "enabled", "pdq ≤", "action", "source", "version"):
        table.add_column(column, overflow="fold")
    for record in records:
        entries = "in place" if record["in_place"] else f"{record['entry_count']:,}"
        table.add_row(
            str(record["name"]),
            str(record["kind"]),
            entries,
            "yes" if record["enabled"] else "no",
            str(record["pdq_threshold"]),
            str(record["action"] or "-"),
            str(record["source"] or "-"),
            str(record["version"] or "-"),
        )
    Console().print(table)


@lists_app.command("export")
def export_command(
    name: Annotated[str, typer.Argument(help="The list to export.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.", dir_okay=False)],
    format_name: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)}.")
    ] = "csv",
    db: DbOption = None,
) -> None:
    """Write a list's entries to a file (VICS JSON, CSV or hashdeep)."""
    with errors_to_exit():
        try:
            written = _service(db).export(name, output, format_name)
        except OSError as exc:
            typer.echo(f"error: cannot write {output}: {exc.strerror}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"Wrote {written:,} entries of {name!r} to {output} ({format_name}).")


@lists_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="The list to delete.")],
    db: DbOption = None,
) -> None:
    """Delete a list and its entries (an NSRL file registered in place is left alone)."""
    with errors_to_exit():
        _service(db).remove(name)
    typer.echo(f"Removed {name!r}.")


@lists_app.command("enable")
def enable_command(
    name: Annotated[str, typer.Argument(help="The list.")], db: DbOption = None
) -> None:
    """Match against the list again."""
    with errors_to_exit():
        _service(db).set_enabled(name, True)
    typer.echo(f"Enabled {name!r}.")


@lists_app.command("disable")
def disable_command(
    name: Annotated[str, typer.Argument(help="The list.")], db: DbOption = None
) -> None:
    """Keep the list but stop matching against it."""
    with errors_to_exit():
        _service(db).set_enabled(name, False)
    typer.echo(f"Disabled {name!r}.")


@lists_app.command("set-threshold")
def set_threshold_command(
    name: Annotated[str, typer.Argument(help="The list.")],
    threshold: Annotated[int, typer.Argument(min=0, max=256, help="PDQ Hamming threshold.")],
    db: DbOption = None,
) -> None:
    """Set the list's own PDQ threshold (the default is 31)."""
    with errors_to_exit():
        _service(db).set_threshold(name, threshold)
    typer.echo(f"PDQ threshold of {name!r} is now {threshold}.")
