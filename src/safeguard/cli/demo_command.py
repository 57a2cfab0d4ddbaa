"""`safeguard demo`: the README's main job, on generated benign data and the embedded SQLite."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import errors_to_exit, services_for
from safeguard.cli.output import stderr_console
from safeguard.domain.statuses import status_of

if TYPE_CHECKING:
    from safeguard.bootstrap import Services

console = stderr_console


def _packages_step(services: Services, folder: Path, case_number: str) -> None:
    """Intelligence packages: built, approved, sent to forces, acknowledged, outcomes, dashboard."""
    from safeguard.domain.forces import destination_name
    from safeguard.services.demo.package_flow import run_package_demo

    console.print("[bold cyan]»[/] Building intelligence packages and routing them to forces")
    with errors_to_exit():
        done = run_package_demo(
            folder / "packages",
            services.intel_intake,
            services.intel_subjects,
            services.packages,
            services.dissemination,
            services.package_outcomes,
            services.operation_dashboard,
            case_number,
            "EXH-1",
        )
    table = Table(title="Intelligence packages (synthetic operation)")
    for column in ("package", "band", "sent to", "state"):
        table.add_column(column)
    for p in done.packages:
        table.add_row(p.reference, p.band, destination_name(p.destination), p.state.value)
    console.print(table)
    n = done.national
    console.print(
        f"Outcomes: {n.arrests} arrests, {n.premises_searched} premises searched, "
        f"{n.devices_seized} devices seized ({n.devices_examined} examined), "
        f"{n.children_safeguarded} children safeguarded ({n.children_at_serious_risk} at serious risk)"
    )
    console.print(f"dashboard page: {done.dashboard_page}")


@app.command("demo")
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for everything the demo makes.")
    ] = Path("demo-output"),
    serve: Annotated[
        bool, typer.Option("--serve", help="Then start the matching service on the demo data.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve (loopback only).")] = 8000,
) -> None:
    """Run the whole flow on benign generated stand-ins: hash, lists, match, scan, report."""
    # Imported here: the tour pulls in imaging and triage, which other commands never need.
    from safeguard.services.demo.tour import prepare_demo_folder

    folder = out.resolve()
    # The demo keeps its database and index inside its own folder, never the user's.
    os.environ["SAFEGUARD_DATA_DIR"] = str(folder / "data")
    os.environ.pop("SAFEGUARD_DATABASE_URL", None)
    os.environ.pop("SAFEGUARD_DB", None)
    try:
        prepare_demo_folder(folder)
    except FileExistsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    with errors_to_exit():
        services = services_for(None)
        outcome = services.demo_tour.run(
            folder, step=lambda s: console.print(f"[bold cyan]»[/] {s}")
        )

    table = Table(title="Media folder: hashed and matched (benign stand-ins)")
    table.add_column("file", no_wrap=True, overflow="ellipsis", max_width=22)
    table.add_column("quality", no_wrap=True, min_width=7)
    table.add_column("status", no_wrap=True, min_width=10)
    table.add_column("why", overflow="ellipsis", no_wrap=True, max_width=34)
    for item in outcome.media:
        fh = item.hashes
        best = item.matches[0] if item.matches else None
        why = fh.error or (
            f"{best.list_name} {best.algorithm.value} distance {best.distance}" if best else ""
        )
        table.add_row(
            Path(fh.path).name,
            "" if fh.pdq_quality is None else str(fh.pdq_quality),
            # The words of case reports and `match`: known-bad, unknown-image, ..., error.
            status_of(fh, item.matches, None).value,
            why,
        )
    console.print(table)

    counts = Table(title=f"Scan of {outcome.exhibit.name} into case {outcome.case_number}")
    counts.add_column("status")
    counts.add_column("files", justify="right")
    for status, count in sorted(outcome.scan.counts.items(), key=lambda kv: kv[0].value):
        counts.add_row(status.value, str(count))
    console.print(counts)
    for fmt, path in outcome.reports.items():
        console.print(f"{fmt} report: {path}")
    _intelligence_step(services)
    _packages_step(services, outcome.folder, outcome.case_number)
    console.print(f"Everything is in {outcome.folder}")

    if serve:
        from safeguard.cli.service_commands import serve as serve_command
        from safeguard.services.demo.service_seed import seed_demo_service

        seed = seed_demo_service(
            services.list_administration,
            services.api_keys,
            services.upload_matching,
            folder / "service",
        )
        console.print("Matching service with demo data; in another terminal run:")
        console.print(
            seed.curl_command(f"http://127.0.0.1:{port}"), soft_wrap=True, highlight=False
        )
        serve_command(host="127.0.0.1", port=port, workers=1, db=None, log_level="warning")


def _intelligence_step(services: Services) -> None:
    """A small synthetic operation: referrals in, linked, ranked; the top subject explained."""
    from safeguard.cli.intel_tables import factors_table, ranked_table
    from safeguard.services.demo.intel_demo import known_images, run_intel_demo
    from safeguard.services.demo.tour import KNOWN_BAD_LIST
    from safeguard.services.intel.records import assessment_record

    console.print(
        "[bold cyan]»[/] Intelligence: a synthetic operation of referrals (reserved identifiers)"
    )
    with errors_to_exit():
        images = known_images(services.hash_list_store.iter_entries(KNOWN_BAD_LIST), KNOWN_BAD_LIST)
        result = run_intel_demo(services.intel_intake, services.intel_subjects, images)
    console.print(
        f"{result.referrals} referrals -> {result.subjects} subjects, {result.networks} networks "
        f"found ({result.planted_networks} planted; pairs precision {result.recovery.precision:.2f}, "
        f"recall {result.recovery.recall:.2f}); the viral image linked {result.viral_linked} subjects"
    )
    console.print(ranked_table(list(result.ranked), "Subjects by priority (top 10)"))
    top = result.top
    assessment = assessment_record(top.priority.assessment)
    console.print(
        factors_table(
            assessment,
            f"Why subject {top.subject.subject_id} ({top.subject.label}) is "
            f"{top.priority.band.value}: score {(assessment or {}).get('score', 0)}, "
            f"rules {(assessment or {}).get('rules_version', '')}",
        )
    )
    console.print(
        f"A band is advice with its reasons; a person decides. "
        f"See `safeguard intel show {top.subject.subject_id}`."
    )
