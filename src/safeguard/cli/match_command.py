"""`safeguard match PATH...` and `safeguard match --hashes FILE`: match against the lists."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import emit_json, emit_json_lines, progress_bar
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.matches import Match, Verdict, verdict_of
from safeguard.services.hash_queries import HashQuery, read_hash_queries
from safeguard.services.match_records import match_as_record

if TYPE_CHECKING:
    from safeguard.services.matching import MatchService

_VERDICT_STYLE = {
    Verdict.KNOWN_BAD: "bold red",
    Verdict.KNOWN_GOOD: "green",
    Verdict.IGNORABLE: "dim",
    Verdict.UNKNOWN: "",
}


def _describe(match: Match) -> str:
    how = (
        f"{match.algorithm.value} exact"
        if match.is_exact
        else f"pdq distance {match.distance}/{match.threshold}, quality {match.query_quality}, "
        f"{match.variant}"
    )
    return f"{match.list_name} ({match.list_kind.value}) entry {match.entry_id}: {how}; {match.category.label}"


def _print_human(console: Console, label: str, matches: Sequence[Match], error: str | None) -> None:
    verdict = verdict_of(matches)
    style = _VERDICT_STYLE[verdict]
    shown = f"[{style}]{verdict.value}[/{style}]" if style else verdict.value
    line = f"{escape(label)}: {shown}"
    if error:
        line += f" [yellow]({escape(error)})[/yellow]"
    console.print(line, highlight=False)
    for match in matches:
        console.print(f"    {escape(_describe(match))}", highlight=False)


def _with_matches(record: dict[str, object], matches: Sequence[Match]) -> dict[str, object]:
    record["verdict"] = verdict_of(matches).value
    record["matches"] = [match_as_record(m) for m in matches]
    return record


def _emit(record: dict[str, object], matches: Sequence[Match]) -> None:
    emit_json(_with_matches(record, matches))


HASH_BATCH = 2_000
"""Hash-file lines matched together: one index search and one store round trip per batch."""

FILE_BATCH = 64
"""Hashed files matched together; a batch is also flushed after `FILE_BATCH_SECONDS`."""

FILE_BATCH_SECONDS = 0.5


def _chunks(items: Iterator[HashQuery], size: int) -> Iterator[list[HashQuery]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _match_hash_file(
    service: MatchService, file: Path, algorithm: HashAlgorithm | None, as_json: bool
) -> tuple[int, int]:
    console = Console(soft_wrap=True)
    queries = errors = 0
    for batch in _chunks(read_hash_queries(file, algorithm), HASH_BATCH):
        usable = [q for q in batch if q.error is None and q.digests]
        found = iter(service.match_digests_many([(q.digests, q.pdq_quality) for q in usable]))
        records: list[dict[str, object]] = []
        for query in batch:
            queries += 1
            matches = next(found) if query.error is None and query.digests else []
            errors += query.error is not None
            if as_json:
                records.append(_with_matches(query.as_record(), matches))
            else:
                label = f"{file.name}:{query.line}"
                _print_human(console, label, matches, query.error)
        if records:
            emit_json_lines(records)
    return queries, errors


def _timed_batches(items: Iterator[FileHashes]) -> Iterator[list[FileHashes]]:
    """Group hashed files for matching, keeping the output flowing when hashing is slow."""
    batch: list[FileHashes] = []
    started = 0.0
    for item in items:
        if not batch:
            started = time.monotonic()
        batch.append(item)
        if len(batch) >= FILE_BATCH or time.monotonic() - started >= FILE_BATCH_SECONDS:
            yield batch
            batch = []
    if batch:
        yield batch


@app.command("match")
def match_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files and folders (walked recursively).")
    ] = None,
    hashes: Annotated[
        Path | None,
        typer.Option(
            "--hashes",
            help="Match hashes read from this file (one per line, or a CSV with a header) "
            "instead of media.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    algorithm: Annotated[
        HashAlgorithm | None,
        typer.Option(
            "--algorithm",
            help="With --hashes: the algorithm of bare values (64 hex digits are otherwise "
            "tried as both sha256 and pdq).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per file with a matches array.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=0, help="Processes to use; 0 means one per core.")
    ] = 0,
    recovery: Annotated[
        bool,
        typer.Option(
            "--recovery/--no-recovery",
            help="Also hash recovered regions (trimmed borders, pictures inside screenshots).",
        ),
    ] = True,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="Also write the matched files as a list (see --export-format).",
            dir_okay=False,
        ),
    ] = None,
    export_format: Annotated[
        str, typer.Option("--export-format", help="vics, csv or hashdeep.")
    ] = "vics",
    db: DbOption = None,
) -> None:
    """Hash files and match them against the enabled lists (exact digests and PDQ).

    A PDQ match is intelligence, not proof: each match shows the list, entry, distance,
    threshold, the query's quality and which rotation/flip matched. Bad files get a record
    with an error and the run goes on (exit status 0).
    """
    # Imported when run: the list writers are not needed for `--help`.
    from safeguard.services.match_export import (
        EXPORT_FORMATS,
        MatchResult,
        export_match_results,
    )

    if export is not None and export_format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"--export-format is one of {', '.join(EXPORT_FORMATS)}")
    if (hashes is None) == (not paths):
        raise typer.BadParameter("give files or folders, or --hashes FILE (not both)")
    with errors_to_exit():
        services = services_for(db)
        service = services.match_service
        service.refresh()
        if hashes is not None:
            total, errors = _match_hash_file(service, hashes, algorithm, as_json)
            if not as_json:
                Console(stderr=True).print(f"{total} hashes matched, {errors} unusable lines.")
            return
        assert paths is not None
        missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
        if missing:
            typer.echo(f"Error: no such file or folder: {', '.join(missing)}", err=True)
            raise typer.Exit(2)
        from safeguard.services.hashing import hash_each, iter_media_paths

        files = list(iter_media_paths(paths))
        options = replace(services.hash_options, dihedral=True, recovery=recovery)
        count = min(workers or services.settings.resolved_workers, max(1, len(files)))
        runner = services.batch_runner(count)
        console = Console(soft_wrap=True)
        errors = 0
        matched: list[MatchResult] = []
        with progress_bar("Matching", total=len(files)) as progress:
            for batch in _timed_batches(hash_each(files, options, runner)):
                # A file with an error may still have some digests (e.g. a corrupt image).
                for result, matches in zip(batch, service.match_many(batch), strict=True):
                    progress.advance(1, nbytes=result.size or 0)
                    errors += result.error is not None
                    if export is not None and matches:
                        matched.append((result, matches))
                    if as_json:
                        _emit(result.as_record(), matches)
                    else:
                        _print_human(console, result.path, matches, result.error)
        if export is not None:
            written = export_match_results(matched, export, export_format)
            Console(stderr=True).print(f"{written} matched files written to {export}.")
        if not as_json:
            Console(stderr=True).print(f"{len(files)} files matched, {errors} with errors.")
