"""`safeguard intel ...`: referrals in, ranked subjects, links, networks, merges, overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.intel_tables import factors_table, ranked_table
from safeguard.cli.output import emit_json, stderr_console
from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.priority import Band
from safeguard.domain.service import ReportStatus
from safeguard.services.examiner.cases import current_actor
from safeguard.services.intel import records

intel_app = typer.Typer(
    help="Intelligence: referrals, subjects, links and priorities.", no_args_is_help=True
)
app.add_typer(intel_app, name="intel")

console = Console()

ByOption = Annotated[
    str | None, typer.Option("--by", help="Who is acting (default: the operating-system user).")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _band(value: str | None) -> Band | None:
    return Band.parse(value) if value else None


@intel_app.command("ingest")
def ingest(
    files: Annotated[list[Path] | None, typer.Argument(help="Report files (XML or JSON).")] = None,
    grading: Annotated[
        str, typer.Option(help="3x5x2 grading for these referrals, e.g. 2BP or 1AC.")
    ] = "2CP",
    conditions: Annotated[str, typer.Option(help="Handling conditions (required with C).")] = "",
    reader: Annotated[
        str | None, typer.Option("--format", help="Reader name (default: detected).")
    ] = None,
    confirmed_reports: Annotated[
        bool,
        typer.Option(
            "--confirmed-reports", help="Also take in every confirmed report of the service."
        ),
    ] = False,
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take referrals in; a bad report is refused with file, element and reason, others go on.

    Re-ingesting the same report changes nothing. Exit status 1 when any report was refused.
    """
    actor = by or current_actor()
    with errors_to_exit():
        services = services_for(db)
        outcomes = []
        if files:
            outcomes.append(
                services.intel_intake.ingest_files(
                    files,
                    actor=actor,
                    grading=Grading.parse(grading, conditions),
                    reader_name=reader,
                )
            )
        if confirmed_reports:
            reports = services.service_store.list_reports(ReportStatus.CONFIRMED, 1_000_000)
            outcomes.append(services.intel_intake.ingest_confirmed_reports(reports, actor=actor))
    if not outcomes:
        stderr_console.print("[red]error:[/red] give report files or --confirmed-reports")
        raise typer.Exit(2)
    refused = 0
    for outcome in outcomes:
        record = records.ingest_record(outcome)
        refused += len(outcome.refused)
        if as_json:
            emit_json(record)
            continue
        for refusal in outcome.refused:
            stderr_console.print(
                f"[yellow]refused[/yellow] {escape(str(refusal))}", highlight=False, soft_wrap=True
            )
        typer.echo(
            f"{record['added']} referral(s) added, {record['unchanged']} already held, "
            f"{len(outcome.refused)} refused, {record['subjects_created']} new subject(s)"
        )
    if refused:
        raise typer.Exit(1)


@intel_app.command("subjects")
def subjects(
    band: Annotated[str | None, typer.Option(help="Only this band.")] = None,
    min_band: Annotated[str | None, typer.Option(help="Only this band or higher.")] = None,
    overridden: Annotated[
        bool | None, typer.Option("--overridden/--not-overridden", help="Only (not) overridden.")
    ] = None,
    network: Annotated[int | None, typer.Option(help="Only members of this network.")] = None,
    search: Annotated[str, typer.Option(help="Text in the subject's label.")] = "",
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subjects ranked by band in force, then score."""
    with errors_to_exit():
        rows = services_for(db).intel_subjects.ranked(
            band=_band(band),
            min_band=_band(min_band),
            overridden=overridden,
            network_id=network,
            search=search,
            limit=limit,
        )
    if as_json:
        for row in rows:
            emit_json(records.ranked_record(row))
        return
    console.print(ranked_table(rows))


@intel_app.command("show")
def show(
    subject: Annotated[int, typer.Argument(help="Subject id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One subject: priority with every factor, identifiers, referrals, exhibits, links."""
    with errors_to_exit():
        record = records.full_subject_record(services_for(db).intel_subjects.record(subject))
    if as_json:
        emit_json(record)
        return
    info = record["subject"]
    priority = record["priority"]
    console.print(f"[bold]Subject {info['id']}[/bold]: {info['label']} ({info['origin']})")
    if info["merged_into"]:
        console.print(f"merged into subject {info['merged_into']}")
    band = priority["band"]
    if priority["override"]:
        override = priority["override"]
        band += f" (override by {override['by']}: {override['reason']}; computed {priority['computed_band']})"
    console.print(
        f"Band: [bold]{band}[/bold]  score {(priority['assessment'] or {}).get('score', 0)}"
    )
    console.print(factors_table(priority["assessment"], "Factors"))
    identifiers = Table(title="Identifiers")
    identifiers.add_column("kind")
    identifiers.add_column("value")
    for item in record["identifiers"]:
        identifiers.add_row(
            item["kind"], item["value"] + (f" on {item['service']}" if item["service"] else "")
        )
    console.print(identifiers)
    referrals = Table(title="Referrals")
    for column in ("id", "source", "external id", "when", "grading", "files", "known"):
        referrals.add_column(column)
    for item in record["referrals"]:
        referrals.add_row(
            str(item["id"]),
            item["source"],
            item["external_id"],
            item["incident_at"] or "",
            item["grading"]["code"],
            str(len(item["files"])),
            str(sum(1 for f in item["files"] if f["known"])),
        )
    console.print(referrals)
    for exhibit in record["exhibits"]:
        console.print(
            f"Exhibit {exhibit['case']}/{exhibit['exhibit']}: {exhibit['known_bad_files']} known-bad "
            f"of {exhibit['files_examined']} files examined"
        )
    members = record["network"]["members"]
    if len(members) > 1:
        console.print(f"Network {record['network']['id']}: subjects {', '.join(map(str, members))}")


@intel_app.command("network")
def network(
    subject: Annotated[int, typer.Argument(help="Subject id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The network a subject belongs to: members and every link with its evidence."""
    with errors_to_exit():
        found = services_for(db).intel_links.network_of(subject)
    record = records.network_record(found)
    if as_json:
        emit_json(record)
        return
    console.print(f"Network {record['id']}: {len(record['members'])} member(s)")
    table = Table()
    for column in ("subjects", "kind", "shared", "weight", "evidence referrals"):
        table.add_column(column)
    for link in record["links"]:
        table.add_row(
            f"{link['subjects'][0]}-{link['subjects'][1]}",
            link["kind"],
            link["key"],
            f"{link['weight']:.2f}",
            ", ".join(map(str, link["evidence_referrals"])),
        )
    console.print(table)


@intel_app.command("new-subject")
def new_subject(
    label: Annotated[str, typer.Option("--label", help="A short label (an alias, a case name).")],
    reason: ReasonOption,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Open a subject by hand (e.g. a suspect known before any referral; audited)."""
    with errors_to_exit():
        made = services_for(db).intel_subjects.create(label, by or current_actor(), reason)
    typer.echo(f"subject {made.subject_id} opened: {made.label}")


@intel_app.command("networks")
def networks(
    min_size: Annotated[int, typer.Option(help="Only networks of at least this many.")] = 2,
    limit: Annotated[int, typer.Option(help="At most this many networks.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every network, biggest first, with its members."""
    with errors_to_exit():
        found = services_for(db).intel_links.networks(min_size=min_size)[:limit]
    if as_json:
        for item in found:
            emit_json(
                {"id": item.network_id, "members": list(item.members), "links": len(item.links)}
            )
        return
    table = Table(title="Networks")
    for column in ("network", "members", "links", "subjects"):
        table.add_column(column)
    for item in found:
        table.add_row(
            str(item.network_id),
            str(len(item.members)),
            str(len(item.links)),
            ", ".join(map(str, item.members)),
        )
    console.print(table)


@intel_app.command("link")
def link(
    first: Annotated[int, typer.Argument(help="Subject id.")],
    second: Annotated[int, typer.Argument(help="Subject id.")],
    reason: ReasonOption,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Link two subjects by hand (audited)."""
    with errors_to_exit():
        made = services_for(db).intel_links.link(first, second, by or current_actor(), reason)
    typer.echo(f"linked subjects {made.subject_a} and {made.subject_b} (link {made.link_id})")


@intel_app.command("unlink")
def unlink(
    first: Annotated[int, typer.Argument(help="Subject id.")],
    second: Annotated[int, typer.Argument(help="Subject id.")],
    reason: ReasonOption,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Say two subjects are not linked: computed links between them stop counting (audited)."""
    with errors_to_exit():
        made = services_for(db).intel_links.unlink(first, second, by or current_actor(), reason)
    typer.echo(f"unlinked subjects {made.subject_a} and {made.subject_b}")


@intel_app.command("merge")
def merge(
    survivor: Annotated[int, typer.Argument(help="The subject that remains.")],
    absorbed: Annotated[int, typer.Argument(help="The subject merged into it.")],
    reason: ReasonOption,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Merge two subjects (reversible with `intel split MERGE_ID`; audited)."""
    with errors_to_exit():
        record = services_for(db).intel_subjects.merge(
            survivor, absorbed, by or current_actor(), reason
        )
    typer.echo(
        f"merge {record.merge_id}: subject {absorbed} merged into {survivor} "
        f"({len(record.moved_referrals)} referral(s) moved); undo with `safeguard intel split {record.merge_id}`"
    )


@intel_app.command("split")
def split(
    merge_id: Annotated[int, typer.Argument(help="The merge to undo.")],
    reason: ReasonOption,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Undo a merge exactly: the absorbed subject and all it had come back (audited)."""
    with errors_to_exit():
        record = services_for(db).intel_subjects.split(merge_id, by or current_actor(), reason)
    typer.echo(f"merge {merge_id} split: subject {record.absorbed_id} restored")


@intel_app.command("override")
def override(
    subject: Annotated[int, typer.Argument(help="Subject id.")],
    band: Annotated[str | None, typer.Argument(help="Low, Medium, High or Very-High.")] = None,
    reason: ReasonOption = "",
    clear: Annotated[bool, typer.Option("--clear", help="Withdraw the override.")] = False,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Set a subject's band by hand with a reason; the computed band is kept (audited)."""
    actor = by or current_actor()
    with errors_to_exit():
        priorities = services_for(db).intel_priorities
        if clear:
            priorities.clear_override(subject, actor, reason)
            typer.echo(f"override of subject {subject} withdrawn")
            return
        if band is None:
            stderr_console.print("[red]error:[/red] give a band, or --clear")
            raise typer.Exit(2)
        made = priorities.override(subject, Band.parse(band), actor, reason)
    typer.echo(
        f"subject {subject}: band {made.band.value} by {made.by} (computed {made.computed_band.value})"
    )


@intel_app.command("facts")
def facts(
    subject: Annotated[int, typer.Argument(help="Subject id.")],
    occupation: Annotated[str | None, typer.Option(help="Occupation or role.")] = None,
    access_role: Annotated[
        bool | None,
        typer.Option("--access-role/--no-access-role", help="The role gives access to children."),
    ] = None,
    children: Annotated[int | None, typer.Option(help="Children in the household.")] = None,
    other_access: Annotated[
        bool | None,
        typer.Option("--other-access/--no-other-access", help="Other access to children."),
    ] = None,
    registered: Annotated[
        bool | None, typer.Option("--registered/--not-registered", help="Registered sex offender.")
    ] = None,
    prior_sexual: Annotated[int | None, typer.Option(help="Previous sexual convictions.")] = None,
    prior_other: Annotated[int | None, typer.Option(help="Other previous convictions.")] = None,
    contact_history: Annotated[
        bool | None,
        typer.Option("--contact-history/--no-contact-history", help="Known contact offence."),
    ] = None,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Record what an analyst knows about a subject; the band is recomputed (audited)."""
    given = {
        "occupation": occupation,
        "role_with_access_to_children": access_role,
        "children_in_household": children,
        "other_access_to_children": other_access,
        "registered_sex_offender": registered,
        "prior_sexual_convictions": prior_sexual,
        "prior_other_convictions": prior_other,
        "contact_offence_history": contact_history,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    with errors_to_exit():
        services = services_for(db)
        services.intel_subjects.record_facts(subject, by or current_actor(), **changes)
        priority = services.intel_priorities.priority(subject)
    typer.echo(f"subject {subject}: facts recorded; band now {priority.band.value}")


@intel_app.command("attach-exhibit")
def attach_exhibit(
    subject: Annotated[int, typer.Argument(help="Subject id.")],
    case: Annotated[str, typer.Option("--case", help="Case number.")],
    exhibit: Annotated[str, typer.Option("--exhibit", help="Exhibit reference in the case.")],
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Attach a scanned forensic exhibit to a subject, with its known-bad counts.

    Its known-bad files become a referral of the subject, linking it to others who hold them.
    """
    actor = by or current_actor()
    with errors_to_exit():
        services = services_for(db)
        case_service = services.case_service
        found_case = case_service.find(case)
        found_exhibit = case_service.exhibit(found_case, exhibit)
        attachment, _ = services.intel_intake.ingest_exhibit(
            found_case,
            found_exhibit,
            case_service.store.results(found_exhibit.exhibit_id),
            subject_id=subject,
            actor=actor,
        )
    typer.echo(
        f"exhibit {case}/{exhibit} attached to subject {subject}: "
        f"{attachment.known_bad_files} known-bad of {attachment.files_examined} files"
    )
