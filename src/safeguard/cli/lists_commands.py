"""`safeguard lists ...`: import, show, export, enable/disable, tune and remove hash lists."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, cli_actor, errors_to_exit, services_for
from safeguard.cli.output import emit_json, progress_bar, stderr_console
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashList, ListKind
from safeguard.domain.matches import MAX_PDQ_THRESHOLD, check_pdq_threshold
from safeguard.domain.service import action_field

if TYPE_CHECKING:
    from safeguard.services.hash_lists.management import ImportCounts, ListService

# The same as services.hash_lists.management.EXPORT_FORMATS (a test checks), named here so that `--help`
# does not import the list readers.
EXPORT_FORMATS = (
    "vics",
    "vics-case",
    "csv",
    "tsv",
    "hashdeep",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "te-signals",
)

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


def _service(db: str | None, *, read_only: bool = False) -> ListService:
    return services_for(db, read_only=read_only).list_service


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
            "--format",
            help="Reader: vics, csv, hashdeep, md5sum, sha256sum, pdq, te-signals, te-state, "
            "jsonl, nsrl (default: detect).",
        ),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Who issued the list.")] = None,
    version: Annotated[str | None, typer.Option(help="The issuer's version.")] = None,
    threshold: Annotated[
        int | None,
        typer.Option(
            help=f"This list's PDQ Hamming threshold, 0-{MAX_PDQ_THRESHOLD} (default: 31).",
            show_default=False,
        ),
    ] = None,
    action: Annotated[
        list[str] | None,
        typer.Option(
            help="What the matching service does on a match: block, quarantine, report or "
            "webhook; repeat the option for several.",
            show_default=False,
        ),
    ] = None,
    lenient: Annotated[
        bool, typer.Option(help="Skip malformed records instead of refusing the file.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored list as JSON.")] = False,
    wait: Annotated[
        bool,
        typer.Option(
            help="Re-match past uploads before returning (--no-wait: leave it to the server "
            "or `lists retroactive run`)."
        ),
    ] = True,
    db: DbOption = None,
) -> None:
    """Import a hash list; all or nothing. Importing a name again replaces its entries.

    An NSRL RDSv3 database is registered and queried where it lies, not copied. Past
    uploads are then re-matched against the list by a retroactive job, saved after every
    batch (see `safeguard lists retroactive`).
    """
    # Registered on `lists_app`, so imported only once this module is.
    from safeguard.cli.retroactive_commands import job_line, job_record

    with errors_to_exit():
        # Checked before the store is opened or the file read: nothing is written on a typo.
        if threshold is not None:
            _warn_threshold(threshold)
        action_field(action or None)
        service = _service(db)
        with progress_bar(f"Importing {file.name}") as progress:
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                progress.advance(count - done)
                done = count

            outcome, change = services_for(db).list_administration.import_list_file(
                file,
                cli_actor(),
                None if wait else 0,
                name=name,
                kind=kind,
                format_name=format_name,
                source=source,
                version=version,
                threshold=threshold,
                action=action or None,
                lenient=lenient,
                on_progress=advance,
            )
        stored = outcome.hash_list
        location = service.locations().get(stored.name)
        duplicate = outcome.duplicate_warning()
        if duplicate:
            stderr_console.print(
                f"warning: {duplicate}", markup=False, highlight=False, soft_wrap=True
            )
        if as_json:
            record = _record(service, stored, location)
            record.update(
                format=outcome.format_name,
                skipped=outcome.report.skipped,
                also_in_other_lists=outcome.overlaps,
            )
            if not outcome.in_place:
                record["counts"] = outcome.counts.as_record()
            job = change.retroactive_job
            record["retroactive_job"] = None if job is None else job_record(job)
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
            print_import_counts(file.name, outcome.counts)
        if change.retroactive:
            typer.echo(f"{len(change.retroactive):,} past uploads now match; their actions ran.")
        job = change.retroactive_job
        if job is not None and not outcome.in_place and (job.note or not job.state.is_final):
            typer.echo(job_line(job), err=True)


def print_import_counts(file_name: str, counts: ImportCounts) -> None:
    """Where every record went: read, stored, skipped, ignored, merged, and why (stderr)."""
    typer.echo(
        f"{file_name}: read {counts.read:,} records, stored {counts.stored:,} entries, "
        f"skipped {counts.skipped:,} malformed, ignored {counts.ignored:,}, "
        f"merged {counts.merged:,} repeated.",
        err=True,
    )
    for reason, count in sorted(counts.reasons.items(), key=lambda item: -item[1]):
        typer.echo(f"  ignored {count:,}: {reason}", err=True)
    for record in counts.ignored_records[:5]:
        typer.echo(f"  ignored: {record}", err=True)
    if counts.ignored > 5:
        typer.echo(f"  ... and {counts.ignored - 5:,} more ignored records", err=True)
    if counts.merged:
        typer.echo(
            f"  merged {counts.merged:,}: same digests as an earlier record (one entry kept)",
            err=True,
        )
    for remark, count in sorted(counts.notes.items(), key=lambda item: -item[1]):
        typer.echo(f"  note {count:,}: {remark}", err=True)
    for problem in counts.problems[:5]:
        typer.echo(f"  skipped: {problem}", err=True)
    if counts.skipped > 5:
        typer.echo(f"  ... and {counts.skipped - 5:,} more skipped records", err=True)


@lists_app.command("show")
def show_command(
    name: Annotated[str | None, typer.Argument(help="One list (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per list.")] = False,
    db: DbOption = None,
) -> None:
    """Show the lists: kind, entries, enabled, PDQ threshold, version."""
    with errors_to_exit():
        service = _service(db, read_only=True)
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
    algorithms: Annotated[
        str | None,
        typer.Option(
            "--algorithms",
            help="hashdeep: the hash columns, e.g. md5,sha256 (default: those every entry has).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a list's entries to a file (VICS JSON, CSV, hashdeep, md5sum/sha1sum/sha256sum...)."""
    with errors_to_exit():
        chosen = None
        if algorithms:
            try:
                chosen = tuple(HashAlgorithm(a.strip().lower()) for a in algorithms.split(","))
            except ValueError as exc:
                raise typer.BadParameter(f"--algorithms: {exc}") from exc
        service = _service(db, read_only=True)
        try:
            written = service.export(name, output, format_name, algorithms=chosen)
        except OSError as exc:
            typer.echo(f"error: cannot write {output}: {exc.strerror}", err=True)
            raise typer.Exit(2) from exc
        total = service.get(name).entry_count
    typer.echo(f"Wrote {written:,} entries of {name!r} to {output} ({format_name}).")
    if written < total:
        typer.echo(
            f"Left out {total - written:,} of {total:,} entries: the format cannot hold their "
            "digests (or lacks a chosen hash column).",
            err=True,
        )


@lists_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="The list to delete.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; needed when not at a terminal.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Delete a list and its entries, after asking (an NSRL file registered in place is kept)."""
    with errors_to_exit():
        service = _service(db)
        hash_list = service.get(name)
        if not yes:
            question = (
                f"Delete the list {name!r} ({hash_list.kind.value}, "
                f"{hash_list.entry_count:,} entries)? This cannot be undone."
            )
            if not sys.stdin.isatty():
                stderr_console.print(
                    f"error: {question} Not at a terminal: add --yes to delete it.",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
                raise typer.Exit(2)
            if not typer.confirm(question, default=False):
                typer.echo("Nothing removed.")
                raise typer.Exit(1)
        services_for(db).list_administration.remove_list(name, cli_actor())
    typer.echo(f"Removed {name!r}.")


@lists_app.command("enable")
def enable_command(
    name: Annotated[str, typer.Argument(help="The list.")], db: DbOption = None
) -> None:
    """Match against the list again."""
    with errors_to_exit():
        services_for(db).list_administration.update_list(name, cli_actor(), enabled=True)
    typer.echo(f"Enabled {name!r}.")


@lists_app.command("disable")
def disable_command(
    name: Annotated[str, typer.Argument(help="The list.")], db: DbOption = None
) -> None:
    """Keep the list but stop matching against it."""
    with errors_to_exit():
        services_for(db).list_administration.update_list(name, cli_actor(), enabled=False)
    typer.echo(f"Disabled {name!r}.")


@lists_app.command("set-threshold")
def set_threshold_command(
    name: Annotated[str, typer.Argument(help="The list.")],
    threshold: Annotated[
        int, typer.Argument(help=f"PDQ Hamming threshold, 0-{MAX_PDQ_THRESHOLD}.")
    ],
    db: DbOption = None,
) -> None:
    """Set the list's own PDQ threshold (the default is 31; above 64 is accepted with a warning)."""
    with errors_to_exit():
        _warn_threshold(threshold)
        services_for(db).list_administration.update_list(name, cli_actor(), pdq_threshold=threshold)
    typer.echo(f"PDQ threshold of {name!r} is now {threshold}.")


@lists_app.command("set-action")
def set_action_command(
    name: Annotated[str, typer.Argument(help="The list.")],
    actions: Annotated[
        list[str] | None,
        typer.Argument(
            help="block, quarantine, report and/or webhook; none clears them.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Set what the matching service does when an upload matches the list."""
    with errors_to_exit():
        action_field(actions or [])
        stored = _service(db).set_action(name, actions or [])
    typer.echo(f"Actions of {name!r}: {stored.action or 'none'}.")


def _warn_threshold(threshold: int) -> None:
    warning = check_pdq_threshold(threshold)
    if warning:
        stderr_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
