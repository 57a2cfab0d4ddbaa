"""`safeguard case new|show`, `safeguard scan` and `safeguard report`: forensic triage."""

from __future__ import annotations

import contextlib
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import announce_lists, emit_json, stderr_console
from safeguard.cli.scan_display import finished_message, interrupted_message, scan_display
from safeguard.domain.cases import Case, Exhibit, FileStatus
from safeguard.domain.errors import SafeguardError
from safeguard.reporting.contract import STATUS_ORDER

if TYPE_CHECKING:
    from safeguard.bootstrap import Services
    from safeguard.services.examiner.triage_model import ScanProgress

case_app = typer.Typer(help="Open and inspect cases.", no_args_is_help=True)
app.add_typer(case_app, name="case")


def _case_record(case: Case) -> dict[str, object]:
    return {
        "id": case.case_id,
        "number": case.number,
        "examiner": case.examiner,
        "description": case.description,
        "opened_at": case.created_at.isoformat(),
    }


@case_app.command("new")
def case_new(
    number: str = typer.Option(..., "--number", help="Case number, unique."),
    examiner: str = typer.Option(..., "--examiner", help="Examiner in charge."),
    description: str = typer.Option("", "--description", help="Free text."),
    db: DbOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """Open a new case."""
    with errors_to_exit():
        case = services_for(db).case_service.new_case(number, examiner, description)
    if as_json:
        emit_json(_case_record(case))
    else:
        typer.echo(f"case {case.number} opened (id {case.case_id}) by {case.examiner}")


@case_app.command("show")
def case_show(
    case: str = typer.Argument(..., help="Case number (or id)."),
    db: DbOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show a case: its exhibits, their scans and counts per status."""
    with errors_to_exit():
        cases = services_for(db, read_only=True).case_service
        summary = cases.summary(case)
        closed = cases.closure(summary.case)
    if as_json:
        record = _case_record(summary.case)
        record["closed_at"] = closed.at.isoformat() if closed else None
        record["closed_by"] = closed.actor if closed else None
        record["exhibits"] = [
            {
                "reference": s.exhibit.reference,
                "source_path": s.exhibit.source_path,
                "acquisition_hash": s.exhibit.acquisition_hash,
                "acquisition_verified": s.exhibit.acquisition_verified,
                "acquisition_status": s.exhibit.acquisition_status,
                "manifest_sha256": s.exhibit.manifest_sha256,
                "complete": s.complete,
                "runs": len(s.runs),
                "counts": {st.value: s.counts.get(st, 0) for st in STATUS_ORDER},
            }
            for s in summary.exhibits
        ]
        emit_json(record)
        return
    c = summary.case
    typer.echo(
        f"case {c.number} (id {c.case_id}), examiner {c.examiner}, opened {c.created_at:%Y-%m-%d %H:%M} UTC"
    )
    if c.description:
        typer.echo(f"  {c.description}")
    if closed:
        typer.echo(
            f"  CLOSED (sealed) {closed.at:%Y-%m-%d %H:%M} UTC by {closed.actor}: "
            f"{closed.detail.get('reason', '')}"
        )
    if not summary.exhibits:
        typer.echo("  no exhibits scanned yet")
    for s in summary.exhibits:
        state = "complete" if s.complete else "INCOMPLETE (run the scan again to resume)"
        typer.echo(f"  exhibit {s.exhibit.reference}: {s.exhibit.source_path} [{state}]")
        counts = ", ".join(f"{st.value} {s.counts.get(st, 0)}" for st in STATUS_ORDER)
        typer.echo(f"    {counts}")


@case_app.command("list")
def case_list(
    db: DbOption = None,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per case."),
) -> None:
    """List every case: number, examiner, when opened, exhibits, open or closed."""
    with errors_to_exit():
        cases = services_for(db, read_only=True).case_service.cases()
    if as_json:
        for case, exhibits, closed in cases:
            record = _case_record(case)
            record["exhibits"] = exhibits
            record["closed_at"] = closed.at.isoformat() if closed else None
            record["closed_by"] = closed.actor if closed else None
            emit_json(record)
        return
    if not cases:
        typer.echo("No cases yet; open one with `safeguard case new --number N --examiner NAME`.")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("case", "examiner", "opened (UTC)", "exhibits", "state"):
        table.add_column(column, overflow="fold")
    for case, exhibits, closed in cases:
        state = f"closed {closed.at:%Y-%m-%d} by {closed.actor}" if closed else "open"
        table.add_row(
            case.number, case.examiner, f"{case.created_at:%Y-%m-%d %H:%M}", str(exhibits), state
        )
    Console(soft_wrap=False).print(table)


@case_app.command("close")
def case_close(
    case: str = typer.Argument(..., help="Case number (or id)."),
    examiner: str = typer.Option(..., "--examiner", help="Who closes the case."),
    reason: str = typer.Option(..., "--reason", help="Why, for the audit log."),
    db: DbOption = None,
) -> None:
    """Close (seal) a case: it takes no new scans; reports stay available. Audited."""
    with errors_to_exit():
        event = services_for(db).case_service.close(case, examiner, reason)
    typer.echo(f"case {event.detail['number']} closed by {event.actor}: no scan can add to it now")
    if "incomplete_exhibits" in event.detail:
        typer.echo(
            f"  note: exhibits {event.detail['incomplete_exhibits']} were never fully scanned",
            err=True,
        )


@app.command("scan")
def scan(
    exhibit: Annotated[Path, typer.Argument(help="Folder, disk image, E01, archive or file.")],
    case: str = typer.Option(..., "--case", help="Case number (or id)."),
    lists: str = typer.Option("", "--lists", help="Comma-separated list names (default: all)."),
    exhibit_ref: str | None = typer.Option(
        None, "--exhibit-ref", help="Exhibit reference (default: the exhibit's name)."
    ),
    workers: int = typer.Option(0, "--workers", min=0, help="Hashing processes (0: one per core)."),
    examiner: str = typer.Option("", "--examiner", help="Who runs the scan (default: the case's)."),
    db: DbOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON event per line."),
    fail_on_match: bool = typer.Option(
        False,
        "--fail-on-match",
        help="Exit with status 3 when the exhibit holds any known-bad file (for scripts).",
    ),
    rescan_changed: bool = typer.Option(
        False,
        "--rescan-changed",
        help="The exhibit's scan completed but its files changed since: record a new run, "
        "hashing changed files again (refused without this flag).",
    ),
) -> None:
    """Scan an exhibit into a case; run it again to resume an interrupted scan."""
    from safeguard.services.examiner.triage import ScanOptions

    services = services_for(db)
    names = tuple(n.strip() for n in lists.split(",") if n.strip())
    options = ScanOptions(
        lists=names,
        workers=workers or services.settings.resolved_workers,
        hash_options=services.hash_options,
        limits=services.extraction_limits,
        rescan_changed=rescan_changed,
    )

    def json_event(event: ScanProgress) -> None:
        emit_json(event.as_record(), keep_going=True)

    with errors_to_exit():
        triage = services.triage_service
        announce_lists(triage.lists_in_use(names), services.list_service.threshold_of)
        if as_json or not stderr_console.is_terminal:
            outcome = triage.scan(
                exhibit,
                case,
                exhibit_reference=exhibit_ref,
                examiner=examiner,
                options=options,
                on_progress=json_event if as_json else None,
            )
        else:
            try:
                with scan_display() as display:
                    outcome = triage.scan(
                        exhibit,
                        case,
                        exhibit_reference=exhibit_ref,
                        examiner=examiner,
                        options=options,
                        on_progress=display,
                    )
            except KeyboardInterrupt:
                _report_interrupt(services, case, exhibit, exhibit_ref, display.last)
                raise typer.Exit(130) from None
    if as_json:
        emit_json(
            {
                "event": "summary",
                "case": case,
                "exhibit": outcome.exhibit.reference,
                "run": outcome.run.run_id,
                "recorded": outcome.recorded,
                "skipped": outcome.skipped,
                "counts": {s.value: outcome.counts.get(s, 0) for s in STATUS_ORDER},
                "acquisition_hash": outcome.exhibit.acquisition_hash,
                "acquisition_verified": outcome.exhibit.acquisition_verified,
                "acquisition_status": outcome.exhibit.acquisition_status,
                "acquisition_segments": list(outcome.exhibit.acquisition_segments),
                "manifest_sha256": outcome.exhibit.manifest_sha256,
                "errors": [{"path": path, "error": reason} for path, reason in outcome.errors],
            }
        )
        if fail_on_match and outcome.counts.get(FileStatus.KNOWN_BAD, 0):
            raise typer.Exit(3)
        return
    counts = ", ".join(f"{s.value} {outcome.counts.get(s, 0):,}" for s in STATUS_ORDER)
    typer.echo(
        finished_message(
            outcome.exhibit.reference,
            outcome.recorded,
            outcome.skipped,
            outcome.bytes_hashed,
            outcome.elapsed,
        )
    )
    typer.echo(f"  {counts}")
    _echo_integrity(outcome.exhibit, outcome.errors)
    if fail_on_match and outcome.counts.get(FileStatus.KNOWN_BAD, 0):
        raise typer.Exit(3)


_ERRORS_SHOWN = 20


def _echo_integrity(exhibit: Exhibit, errors: tuple[tuple[str, str], ...]) -> None:
    """The acquisition check and each error item with its reason (the first 20)."""
    if exhibit.acquisition_status is not None:
        verified = {True: "verified", False: "NOT VERIFIED", None: "nothing stored to verify"}
        segments = exhibit.acquisition_segments
        covered = (
            f" over {len(segments)} segments ({', '.join(segments)})" if len(segments) > 1 else ""
        )
        typer.echo(
            f"  acquisition {exhibit.acquisition_hash or 'hash not computed'}{covered}: "
            f"{verified[exhibit.acquisition_verified]} ({exhibit.acquisition_status})"
        )
    for path, reason in errors[:_ERRORS_SHOWN]:
        typer.echo(f"  error {path}: {reason}")
    if len(errors) > _ERRORS_SHOWN:
        typer.echo(f"  ... and {len(errors) - _ERRORS_SHOWN} more errors (see the report)")


def _report_interrupt(
    services: Services,
    case: str,
    exhibit: Path,
    exhibit_ref: str | None,
    last: ScanProgress | None,
) -> None:
    reference = exhibit_ref or exhibit.resolve().name
    total = 0
    with contextlib.suppress(SafeguardError):
        summary = services.case_service.summary(case)
        total = sum(
            sum(s.counts.values()) for s in summary.exhibits if s.exhibit.reference == reference
        )
    command = ["safeguard", "scan", str(exhibit), "--case", case]
    if exhibit_ref:
        command += ["--exhibit-ref", exhibit_ref]
    stderr_console.print(
        interrupted_message(
            reference, total, last.files if last else 0, " ".join(shlex.quote(c) for c in command)
        ),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command("report")
def report(
    case: str = typer.Argument(..., help="Case number (or id)."),
    exhibit: str | None = typer.Option(None, "--exhibit", help="Only this exhibit reference."),
    fmt: str = typer.Option(
        "html",
        "--format",
        help="html, pdf (the HTML report printed by Debian's Chromium, A4 landscape), json, "
        "csv, vics or hashdeep.",
    ),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
    show_known_good: bool = typer.Option(
        False, "--show-known-good", help="List known-good files too (always counted)."
    ),
    thumbnails: bool = typer.Option(
        False,
        "--thumbnails",
        help="HTML and PDF only: add small, strongly blurred thumbnails of known-bad images "
        "(logged).",
    ),
    db: DbOption = None,
) -> None:
    """Write a case (or exhibit) report: HTML, PDF, JSON, CSV, VICS 2.0 case or hashdeep manifest."""
    from safeguard.services.examiner.case_reports import REPORT_FORMATS

    if fmt not in REPORT_FORMATS:
        raise typer.BadParameter(f"choose from {', '.join(REPORT_FORMATS)}", param_hint="--format")
    suffix = {"vics": ".vics.json", "hashdeep": ".hashdeep.txt"}.get(fmt, f".{fmt}")
    safe_case = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in case)
    target = output or Path(os.getcwd()) / f"case-{safe_case}{suffix}"
    with errors_to_exit():
        written = services_for(db).case_report_service.write(
            case,
            fmt,
            target,
            exhibit_reference=exhibit,
            show_known_good=show_known_good,
            thumbnails=thumbnails,
        )
    typer.echo(str(written))
