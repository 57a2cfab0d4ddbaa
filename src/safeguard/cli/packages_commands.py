"""`safeguard packages ...`: the package workflow from a terminal, as a named user.

Every command acts as the user given with ``--as`` (an account made with
``safeguard users create``), with that user's roles and force, exactly as in the web
interface; every view and change lands in the package audit log under that name.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import stderr_console
from safeguard.domain.errors import InputError
from safeguard.domain.forces import destination_name

if TYPE_CHECKING:
    from safeguard.bootstrap import Services
    from safeguard.domain.package_access import Viewer
    from safeguard.domain.packages import Package

# The package, outcome and dashboard modules are imported by the commands that use them,
# so that `safeguard --help` does not load them.

packages_app = typer.Typer(help="Intelligence packages: build, approve, send, track, outcomes.")
app.add_typer(packages_app, name="packages", no_args_is_help=True)

AsUser = Annotated[str, typer.Option("--as", help="The user acting (see `safeguard users`).")]
Ref = Annotated[str, typer.Argument(help="Package reference, e.g. PKG-000001.")]
console = stderr_console


def _viewer(services: Services, username: str) -> Viewer:
    from safeguard.domain.package_access import viewer_of

    return viewer_of(services.users.find(username))


def _line(package: Package) -> str:
    due = f", due {package.due_at.isoformat(timespec='minutes')}" if package.due_at else ""
    return (
        f"{package.reference} {package.state.value} -> {destination_name(package.destination)}"
        f" ({package.band}, v{package.version}{due})"
    )


@packages_app.command("build")
def build(
    subject: Annotated[str, typer.Argument(help="Subject reference in the intelligence core.")],
    as_user: AsUser,
    network: Annotated[bool, typer.Option(help="Include the subject's linked network.")] = False,
    route_to: Annotated[
        str | None, typer.Option("--route-to", help="Force key or desk, overriding the postcode.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why, when --route-to is given.")] = "",
    notes: Annotated[str, typer.Option(help="Analyst's notes for the package.")] = "",
    db: DbOption = None,
) -> None:
    """Build a draft package for a subject (or its network)."""
    with errors_to_exit():
        services = services_for(db)
        from safeguard.services.intel.packages import Override

        override = Override(route_to, reason) if route_to else None
        package = services.packages.build(
            _viewer(services, as_user), subject, network=network, override=override, notes=notes
        )
        typer.echo(_line(package))


def _step(name: str, help_text: str) -> None:
    def command(reference: Ref, as_user: AsUser, db: DbOption = None) -> None:
        with errors_to_exit():
            services = services_for(db)
            flow = services.dissemination
            viewer = _viewer(services, as_user)
            action = {
                "approve": flow.approve,
                "send": flow.send,
                "ack": flow.acknowledge,
                "action": flow.action,
                "close": flow.close,
            }[name]
            typer.echo(_line(action(viewer, reference)))

    command.__doc__ = help_text
    packages_app.command(name)(command)


_step("approve", "Approve a draft (a second person: never one of its authors).")
_step("send", "Disseminate an approved package to its force; its deadline starts.")
_step("ack", "Acknowledge receipt (the destination force's contact).")
_step("action", "Mark the package actioned (the destination force).")
_step("close", "Close an actioned package.")


@packages_app.command("return")
def return_package(
    reference: Ref,
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Why the force returns it.")],
    db: DbOption = None,
) -> None:
    """Return a package to the national unit, with a reason (the force's contact)."""
    with errors_to_exit():
        services = services_for(db)
        viewer = _viewer(services, as_user)
        typer.echo(_line(services.dissemination.return_package(viewer, reference, reason)))


@packages_app.command("outcome")
def outcome(
    reference: Ref,
    as_user: AsUser,
    occurred_on: Annotated[
        str,
        typer.Option(
            help="Date of the action, YYYY-MM-DD (default today, UTC); not in the future, "
            "not before the package was created."
        ),
    ] = "",
    premises_searched: int = 0,
    arrests: int = 0,
    voluntary_interviews: int = 0,
    charges: int = 0,
    device: Annotated[
        list[str] | None,
        typer.Option(help="Repeatable: 'description|forensic case|exhibit' of a seized device."),
    ] = None,
    children_safeguarded: int = 0,
    children_at_serious_risk: int = 0,
    basis: Annotated[str, typer.Option(help="How the children were counted.")] = "",
    rso: Annotated[
        bool | None, typer.Option("--rso/--no-rso", help="Registered sex offender?")
    ] = None,
    notes: str = "",
    db: DbOption = None,
) -> None:
    """Record what happened on a package (the destination force's contact or officers)."""
    from safeguard.domain.package_outcomes import Outcome, SeizedDevice

    with errors_to_exit():
        services = services_for(db)
        try:
            # Blank means today, by the same clock the service checks the date against.
            when = (
                date.fromisoformat(occurred_on)
                if occurred_on
                else services.package_outcomes.today()
            )
        except ValueError:
            raise InputError(f"date of action {occurred_on!r} is not a date (YYYY-MM-DD)") from None
        report = Outcome(
            0,
            0,
            "",
            when,
            premises_searched=premises_searched,
            arrests=arrests,
            voluntary_interviews=voluntary_interviews,
            charges=charges,
            devices=tuple(
                SeizedDevice(*(p.strip() for p in d.split("|")[:3])) for d in device or []
            ),
            children_safeguarded=children_safeguarded,
            children_at_serious_risk=children_at_serious_risk,
            safeguarding_basis=basis,
            registered_sex_offender=rso,
            notes=notes,
        )
        stored = services.package_outcomes.record(_viewer(services, as_user), reference, report)
        typer.echo(f"outcome {stored.outcome_id} recorded for {reference.upper()}")


@packages_app.command("list")
def list_packages(
    as_user: AsUser,
    overdue: Annotated[bool, typer.Option(help="Only packages past their deadline.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
    db: DbOption = None,
) -> None:
    """The packages the user may see, newest first."""
    with errors_to_exit():
        services = services_for(db)
        viewer = _viewer(services, as_user)
        packages = (
            services.dissemination.overdue(viewer) if overdue else services.packages.listing(viewer)
        )
        late = {p.package_id for p in services.dissemination.overdue(viewer)}
        if as_json:
            for p in packages:
                typer.echo(
                    json.dumps(
                        {
                            "reference": p.reference,
                            "state": p.state.value,
                            "destination": p.destination,
                            "band": p.band,
                            "due_at": p.due_at.isoformat() if p.due_at else None,
                            "overdue": p.package_id in late,
                        }
                    )
                )
            return
        table = Table(title=f"Packages visible to {as_user}")
        for column in ("reference", "subject", "band", "for", "state", "due"):
            table.add_column(column)
        for p in packages:
            due = p.due_at.isoformat(timespec="minutes") if p.due_at else ""
            table.add_row(
                p.reference,
                p.subject_reference,
                p.band,
                destination_name(p.destination),
                p.state.value,
                due + (" OVERDUE" if p.package_id in late else ""),
            )
        console.print(table)


@packages_app.command("show")
def show(
    reference: Ref,
    as_user: AsUser,
    fmt: Annotated[str, typer.Option("--format", help="json, html or pdf.")] = "json",
    version: Annotated[int | None, typer.Option(help="A version number; default current.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    db: DbOption = None,
) -> None:
    """A package version as JSON, HTML or PDF (audited)."""
    with errors_to_exit():
        services = services_for(db)
        view, body, _media = services.package_documents.document(
            _viewer(services, as_user), reference, fmt, version
        )
        if out is not None:
            out.write_bytes(body)
            console.print(
                f"{view.package.reference} v{view.version.number} sha256 {view.version.sha256} -> {out}"
            )
        else:
            sys.stdout.buffer.write(body)


@packages_app.command("dashboard")
def dashboard(
    as_user: AsUser,
    out: Annotated[Path, typer.Option(help="Where to write: .html page or .csv figures.")],
    db: DbOption = None,
) -> None:
    """Write the operation dashboard as an HTML page (inline SVG charts) or CSV."""
    from safeguard.reporting.operation_dashboard import dashboard_csv, render_dashboard_html

    with errors_to_exit():
        services = services_for(db)
        board = services.operation_dashboard.dashboard(_viewer(services, as_user))
        text = dashboard_csv(board) if out.suffix == ".csv" else render_dashboard_html(board)
        out.write_text(text, encoding="utf-8")
        n = board.national
        console.print(
            f"{out}: {n.packages} packages, {n.arrests} arrests, {n.premises_searched} premises searched, "
            f"{n.children_safeguarded} children safeguarded ({n.children_at_serious_risk} at serious risk)"
        )
