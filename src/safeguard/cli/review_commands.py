"""`safeguard review prepare|export|import` and `safeguard lists publish`.

Examiners are named by their account (``--examiner``): the account must hold the
examiner role and be on the case's access list, exactly as in the web grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.lists_commands import lists_app
from safeguard.cli.output import emit_json, stderr_console
from safeguard.domain.cases import Case
from safeguard.domain.errors import AccessDeniedError
from safeguard.domain.people import Role, User

if TYPE_CHECKING:
    from safeguard.bootstrap import Services

review_app = typer.Typer(help="Examiner review: prepare exhibits, VICS case files in and out.")
app.add_typer(review_app, name="review", no_args_is_help=True)

CaseOption = Annotated[str, typer.Option("--case", help="Case number (or id).")]
ExaminerOption = Annotated[
    str, typer.Option("--examiner", help="Your account (examiner role, on the case's access list).")
]


def _examiner_on_case(services: Services, case_ref: str, username: str) -> tuple[Case, User]:
    case = services.case_service.find(case_ref)
    user = services.users.find(username)
    if not user.has_role(Role.EXAMINER) or not services.case_access.allows(user, case.case_id):
        raise AccessDeniedError(f"{user.username} is not an examiner on case {case.number}")
    return case, user


@review_app.command("prepare")
def review_prepare(
    case: CaseOption,
    examiner: ExaminerOption,
    exhibit: Annotated[str, typer.Option(help="Exhibit reference.")],
    db: DbOption = None,
) -> None:
    """List an exhibit's unknown and perceptually matched items for review, with groups."""
    with errors_to_exit():
        services = services_for(db)
        found, user = _examiner_on_case(services, case, examiner)
        target = services.case_service.exhibit(found, exhibit)
        count = services.review_preparation.prepare(found, target, user.actor)
    emit_json({"case": found.number, "exhibit": target.reference, "items": count})


@review_app.command("export")
def review_export(
    case: CaseOption,
    examiner: ExaminerOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="VICS case file to write.")],
    db: DbOption = None,
) -> None:
    """Write the case's graded items as a VICS 2.0 case file."""
    with errors_to_exit():
        services = services_for(db)
        found, user = _examiner_on_case(services, case, examiner)
        count = services.review_exchange.export(found, output, user.actor)
    emit_json({"case": found.number, "file": str(output), "items": count})


@review_app.command("import")
def review_import(
    case: CaseOption,
    examiner: ExaminerOption,
    path: Annotated[Path, typer.Argument(help="VICS case or hash-set file graded elsewhere.")],
    db: DbOption = None,
) -> None:
    """Grade the case's review items that a VICS file lists (grades recorded as yours)."""
    with errors_to_exit():
        services = services_for(db)
        found, user = _examiner_on_case(services, case, examiner)
        count = services.review_exchange.import_file(found, path, user)
    emit_json({"case": found.number, "graded": count})


@lists_app.command("publish")
def lists_publish(
    case: CaseOption,
    examiner: ExaminerOption,
    confirm: Annotated[
        int | None, typer.Option(help="Confirm (and publish) this pending request.")
    ] = None,
    reject: Annotated[int | None, typer.Option(help="Reject this pending request.")] = None,
    db: DbOption = None,
) -> None:
    """Publish a case's graded items to the local lists, four eyes.

    Without --confirm/--reject: ask for publication. A second examiner then runs it with
    --confirm ID, which writes new versions of local-examiner-graded (known-bad) and
    local-examiner-not-indecent (known-good).
    """
    with errors_to_exit():
        services = services_for(db)
        found, user = _examiner_on_case(services, case, examiner)
        publishing = services.review_publication
        if confirm is not None:
            publication = publishing.confirm(found, confirm, user)
        elif reject is not None:
            publication = publishing.reject(found, reject, user)
        else:
            publication = publishing.request(found, user)
            stderr_console.print(
                f"asked: another examiner confirms with --confirm {publication.publication_id}"
            )
    emit_json(
        {
            "publication": publication.publication_id,
            "case": found.number,
            "state": publication.state.value,
            "requested_by": publication.requested_by,
            "decided_by": publication.decided_by,
            "lists": publication.list_versions,
            "entries": publication.entries,
        }
    )
