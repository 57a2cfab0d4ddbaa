"""`safeguard match PATH...` and `safeguard match --hashes FILE`: match against the lists."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import (
    announce_lists,
    emit_json,
    emit_json_lines,
    progress_bar,
    stderr_console,
)
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.matches import Match, Verdict, verdict_of
from safeguard.domain.statuses import status_of
from safeguard.services.hash_queries import HashQuery, QueryFileSummary, read_hash_queries
from safeguard.services.match_records import match_as_record

if TYPE_CHECKING:
    from safeguard.services.examiner.match_export import MatchResult
    from safeguard.services.matching import MatchService

MATCH_EXIT_STATUS = 3
"""Exit status of ``--fail-on-match`` when something is known-bad (2 is a usage error)."""

_ARCHIVE_TYPES = frozenset(
    {
        "application/zip",
        "application/x-tar",
        "application/gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
        "application/vnd.rar",
        "application/x-rar-compressed",
    }
)


_DISK_IMAGE_SUFFIXES = frozenset({".e01", ".img", ".dd", ".raw", ".001", ".iso", ".vhd"})


def container_kind(media_type: str, path: str) -> str | None:
    """What `match` hashes whole but `scan` opens (archive, disk image, video); else None."""
    suffix = Path(path).suffix.lower()
    if media_type in _ARCHIVE_TYPES or suffix in (".tar", ".tgz"):
        return "archive"
    if media_type.startswith("video/"):
        return "video"
    if suffix in _DISK_IMAGE_SUFFIXES:
        return "disk image"
    return None


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


def _print_human(
    console: Console,
    label: str,
    matches: Sequence[Match],
    error: str | None,
    note: str | None = None,
    status: str | None = None,
) -> None:
    verdict = verdict_of(matches)
    style = "yellow" if status == "error" else _VERDICT_STYLE[verdict]
    word = status or verdict.value
    shown = f"[{style}]{word}[/{style}]" if style else word
    line = f"{escape(label)}: {shown}"
    if error:
        line += f" [yellow]({escape(error)})[/yellow]"
    if note:
        line += f" [yellow]({escape(note)})[/yellow]"
    console.print(line, highlight=False)
    for match in matches:
        console.print(f"    {escape(_describe(match))}", highlight=False)


def _with_matches(
    record: dict[str, object], matches: Sequence[Match], verdict: Verdict | None = None
) -> dict[str, object]:
    record["verdict"] = (verdict or verdict_of(matches)).value
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


def _match_hash_file(
    service: MatchService, file: Path, algorithm: HashAlgorithm | None, as_json: bool
) -> tuple[int, int, int]:
    console = Console(soft_wrap=True)
    queries = errors = bad = 0
    summary = QueryFileSummary()

    def write(batch: list[HashQuery], found_batch: Future[list[list[Match]]]) -> None:
        nonlocal queries, errors, bad
        found = iter(found_batch.result())
        records: list[dict[str, object]] = []
        for query in batch:
            queries += 1
            matches = next(found) if query.error is None and query.digests else []
            errors += query.error is not None
            verdict = verdict_of(matches) if matches else Verdict.UNKNOWN
            bad += verdict is Verdict.KNOWN_BAD
            if as_json:
                records.append(_with_matches(query.as_record(), matches, verdict))
            else:
                label = f"{file.name}:{query.line}"
                _print_human(console, label, matches, query.error)
        if records:
            emit_json_lines(records)

    # Batch k is matched on a worker thread while this one writes batch k - 1 and reads
    # batch k + 1: the index search releases the GIL, so reading, matching and writing
    # overlap on a machine with a second core. Output stays in file order.
    with ThreadPoolExecutor(1, thread_name_prefix="match-hashes") as matcher:
        pending: tuple[list[HashQuery], Future[list[list[Match]]]] | None = None
        for batch in _chunks(read_hash_queries(file, algorithm, summary), HASH_BATCH):
            usable = [(q.digests, q.pdq_quality) for q in batch if q.error is None and q.digests]
            submitted = matcher.submit(service.match_digests_many, usable)
            if pending is not None:
                write(*pending)
            pending = (batch, submitted)
        if pending is not None:
            write(*pending)
    report = summary.report
    notice = Console(stderr=True)
    notice.print(
        f"{escape(file.name)} ({summary.format_name}): read {report.records} records, "
        f"{report.entries} with hashes, skipped {report.skipped} unusable, "
        f"ignored {report.ignored}.",
        highlight=False,
    )
    for reason, count in report.ignored_reasons.items():
        notice.print(f"  ignored {count}: {escape(reason)}", highlight=False)
    for record in report.ignored_records[:5]:
        notice.print(f"  ignored: {escape(str(record))}", highlight=False)
    return queries, errors, bad


@app.command("match")
def match_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files and folders (walked recursively).")
    ] = None,
    hashes: Annotated[
        Path | None,
        typer.Option(
            "--hashes",
            help="Match hashes read from this file instead of media: any list format "
            "`lists import` reads (md5sum, hashdeep, CSV, threatexchange, VICS...).",
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
    fail_on_match: Annotated[
        bool,
        typer.Option(
            "--fail-on-match",
            help=f"Exit with status {MATCH_EXIT_STATUS} when any file or hash is known-bad "
            "(for scripts).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Hash files and match them against the enabled lists (exact digests and PDQ).

    A PDQ match is intelligence, not proof: each match shows the list, entry, distance,
    threshold, the query's quality and which rotation/flip matched. Bad files get a record
    with an error and the run goes on (exit status 0).

    `match` hashes each file as it is: it does not open archives (zip, tar, 7z, ...) or
    disk images and does not sample video frames. It names every such file it met;
    `safeguard scan` opens them.
    """
    # Imported when run: the list writers are not needed for `--help`.
    from safeguard.services.examiner.match_export import EXPORT_FORMATS, export_match_results

    if export is not None and export_format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"--export-format is one of {', '.join(EXPORT_FORMATS)}")
    if (hashes is None) == (not paths):
        raise typer.BadParameter("give files or folders, or --hashes FILE (not both)")
    with errors_to_exit():
        services = services_for(db, read_only=True)
        service = services.match_service
        service.refresh()
        enabled = [hl for hl in services.list_service.lists() if hl.enabled]
        announce_lists(enabled, service.threshold_for)
        if hashes is not None:
            total, errors, bad = _match_hash_file(service, hashes, algorithm, as_json)
            stderr_console.print(
                f"{total:,} hashes checked: {bad:,} known-bad, {errors:,} unusable lines.",
                highlight=False,
            )
            if fail_on_match and bad:
                raise typer.Exit(MATCH_EXIT_STATUS)
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
        verdicts: Counter[Verdict] = Counter()
        not_opened: Counter[str] = Counter()
        matched: list[MatchResult] = []
        with progress_bar("Matching", total=len(files)) as progress:
            for batch in _timed_batches(hash_each(files, options, runner)):
                # A file with an error may still have some digests (e.g. a corrupt image).
                for result, matches in zip(batch, service.match_many(batch), strict=True):
                    progress.advance(1, nbytes=result.size or 0)
                    errors += result.error is not None
                    verdicts[verdict_of(matches)] += 1
                    unopened = container_kind(result.media_type, result.path)
                    if unopened:
                        not_opened[unopened] += 1
                    if export is not None and matches:
                        matched.append((result, matches))
                    # The words of case reports: known-bad, unknown-image, ..., error.
                    status = status_of(result, matches, None).value
                    if as_json:
                        record = result.as_record()
                        record["status"] = status
                        if unopened:
                            record["not_opened"] = unopened
                        _emit(record, matches)
                    else:
                        note = f"{unopened} not opened: use `safeguard scan`" if unopened else None
                        _print_human(console, result.path, matches, result.error, note, status)
        if export is not None:
            written = export_match_results(matched, export, export_format)
            stderr_console.print(f"{written:,} matched files written to {export}.")
        stderr_console.print(
            f"{len(files):,} files checked: {verdicts[Verdict.KNOWN_BAD]:,} known-bad, "
            f"{verdicts[Verdict.KNOWN_GOOD] + verdicts[Verdict.IGNORABLE]:,} known-good, "
            f"{verdicts[Verdict.UNKNOWN]:,} unknown; {errors:,} with errors.",
            highlight=False,
        )
        if not_opened:
            kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(not_opened.items()))
            stderr_console.print(
                f"[yellow]note:[/yellow] not opened: {kinds}. `match` hashes such files whole; "
                "`safeguard scan` looks inside archives and disk images and samples video frames.",
                highlight=False,
                soft_wrap=True,
            )
        if fail_on_match and verdicts[Verdict.KNOWN_BAD]:
            raise typer.Exit(MATCH_EXIT_STATUS)
