"""`safeguard hash PATH...`: MD5, SHA-1, SHA-256 and PDQ of files and folders."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import errors_to_exit
from safeguard.cli.output import emit_json, progress_bar
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.file_hashes import FileHashes
from safeguard.hashing.contract import parse_algorithms
from safeguard.settings import load_settings


def _short(value: str | None, keep: int = 16) -> str:
    if value is None:
        return "-"
    return value if len(value) <= keep else value[:keep] + "…"


def _print_table(results: list[FileHashes], console: Console) -> None:
    table = Table(show_lines=False, caption="Digests shortened; use --json for full values.")
    for column in ("path", "size", "type", "md5", "sha256", "pdq", "quality", "error"):
        table.add_column(column, overflow="fold")
    for result in results:
        quality = "-" if result.pdq_quality is None else str(result.pdq_quality)
        if result.pdq is not None and not result.pdq_fit_for_matching:
            quality += " (low)"
        table.add_row(
            result.path,
            "-" if result.size is None else f"{result.size:,}",
            result.media_type,
            _short(result.digest(HashAlgorithm.MD5)),
            _short(result.digest(HashAlgorithm.SHA256)),
            _short(result.pdq),
            quality,
            result.error or "",
        )
    console.print(table)


@app.command("hash")
def hash_command(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (walked recursively).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per file on stdout.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=0, help="Processes to use; 0 means one per core.")
    ] = 0,
    pdq_mode: Annotated[
        str | None,
        typer.Option(
            "--pdq-mode",
            help="fast (reduced-scale JPEG decode) or reference (bit-exact with pdqhash).",
        ),
    ] = None,
    algorithms: Annotated[
        str, typer.Option("--algorithms", help="Comma-separated: md5,sha1,sha256,pdq.")
    ] = "md5,sha1,sha256,pdq",
    max_pixels: Annotated[
        int | None,
        typer.Option("--max-pixels", min=1, help="Refuse to decode images with more pixels."),
    ] = None,
    dihedral: Annotated[
        bool, typer.Option("--dihedral", help="Also compute the 7 rotated/flipped PDQ hashes.")
    ] = False,
) -> None:
    """Hash files: MD5, SHA-1, SHA-256 and, for images, PDQ with its quality.

    Bad files (empty, unreadable, corrupt, too large) get a record with an error and the
    run goes on; the exit status is non-zero only when the run itself fails.
    """
    missing = [str(path) for path in paths if not path.exists() and not path.is_symlink()]
    if missing:
        typer.echo(f"Error: no such file or folder: {', '.join(missing)}", err=True)
        raise typer.Exit(2)
    if pdq_mode is not None and pdq_mode not in ("fast", "reference"):
        raise typer.BadParameter("must be 'fast' or 'reference'", param_hint="--pdq-mode")
    # Imported when run, so that `safeguard --help` does not load numpy, PIL and SQLAlchemy.
    from safeguard.bootstrap import build_services
    from safeguard.services.hashing import hash_each, iter_media_paths

    with errors_to_exit():  # a SAFEGUARD_* setting out of range is not a bad option
        services = build_services(load_settings())
    try:
        chosen = parse_algorithms(algorithms)
        base = services.hash_options
        options = replace(
            base,
            algorithms=chosen,
            pdq_mode="reference" if (pdq_mode or base.pdq_mode) == "reference" else "fast",
            max_image_pixels=max_pixels or base.max_image_pixels,
            dihedral=dihedral,
        )
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from exc

    files = list(iter_media_paths(paths))
    runner = services.batch_runner(
        min(workers or services.settings.resolved_workers, max(1, len(files)))
    )
    results: list[FileHashes] = []
    errors = 0
    with progress_bar("Hashing", total=len(files)) as progress:
        for result in hash_each(files, options, runner):
            errors += result.error is not None
            progress.advance(1, nbytes=result.size or 0)
            if as_json:
                record = result.as_record()
                if dihedral:
                    record["pdq_variants"] = list(result.pdq_variants)
                emit_json(record)
            else:
                results.append(result)
    if not as_json:
        console = Console()
        _print_table(results, console)
        console.print(f"{len(files)} files hashed, {errors} with errors.")
