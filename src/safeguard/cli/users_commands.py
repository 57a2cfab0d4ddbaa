"""`safeguard users ...`: accounts for the web interface, and case access lists.

Passwords are read from a hidden prompt, or from standard input with ``--password-stdin``
(for scripts); never from an argument, which would end up in shell history and in the
process list.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import emit_json, stderr_console
from safeguard.domain.errors import InputError
from safeguard.domain.people import Role, User
from safeguard.services.examiner.cases import current_actor

users_app = typer.Typer(help="People who sign in to the web interface, and case access lists.")
app.add_typer(users_app, name="users", no_args_is_help=True)

ROLE_NAMES = ", ".join(r.value for r in Role)
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input."
    ),
]


def _actor() -> str:
    return f"cli:{current_actor()}"


def _record(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(r.value for r in user.roles),
        "force_code": user.force_code,
        "disabled": user.disabled,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        "created_at": user.created_at.isoformat(),
    }


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InputError("the two passwords differ")
    return first


def _roles(values: list[str]) -> list[Role]:
    chosen: list[Role] = []
    for value in values:
        for name in value.split(","):
            try:
                chosen.append(Role(name.strip()))
            except ValueError:
                raise InputError(f"unknown role {name.strip()!r}; roles: {ROLE_NAMES}") from None
    return chosen


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Sign-in name (stored lower-case).")],
    role: Annotated[list[str], typer.Option("--role", help=f"Repeatable: {ROLE_NAMES}.")],
    force: Annotated[
        str | None, typer.Option(help="Force code, for force contacts and officers.")
    ] = None,
    display_name: Annotated[str, typer.Option(help="How pages name the person.")] = "",
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Create an account; the password is asked for (or read from stdin)."""
    with errors_to_exit():
        roles = _roles(role)
        password = _read_password(password_stdin)
        user = services_for(db).users.create(
            username,
            password,
            roles,
            display_name=display_name,
            force_code=force,
            actor=_actor(),
        )
    emit_json(_record(user))


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Every account, one JSON line each (no password hashes)."""
    with errors_to_exit():
        users = services_for(db).users.all()
    for user in users:
        emit_json(_record(user))


@users_app.command("disable")
def users_disable(username: str, db: DbOption = None) -> None:
    """Disable an account; its sessions end at once."""
    with errors_to_exit():
        emit_json(_record(services_for(db).users.disable(username, actor=_actor())))


@users_app.command("enable")
def users_enable(username: str, db: DbOption = None) -> None:
    """Re-enable an account and clear any lock-out."""
    with errors_to_exit():
        emit_json(_record(services_for(db).users.enable(username, actor=_actor())))


@users_app.command("unlock")
def users_unlock(username: str, db: DbOption = None) -> None:
    """Clear a lock-out after repeated failed sign-ins."""
    with errors_to_exit():
        emit_json(_record(services_for(db).users.unlock(username, actor=_actor())))


@users_app.command("set-password")
def users_set_password(
    username: str, password_stdin: PasswordStdin = False, db: DbOption = None
) -> None:
    """Replace a password (asked for, or read from stdin); the user's sessions end."""
    with errors_to_exit():
        password = _read_password(password_stdin)
        emit_json(_record(services_for(db).users.set_password(username, password, actor=_actor())))


@users_app.command("grant")
def users_grant(
    username: str,
    case: Annotated[str, typer.Option(help="Case number (or id).")],
    db: DbOption = None,
) -> None:
    """Put a user on a case's access list."""
    with errors_to_exit():
        services = services_for(db)
        found = services.case_service.find(case)
        services.case_access.grant(found.case_id, username, actor=_actor())
    stderr_console.print(f"{username} may now open case {found.number}")


@users_app.command("revoke")
def users_revoke(
    username: str,
    case: Annotated[str, typer.Option(help="Case number (or id).")],
    db: DbOption = None,
) -> None:
    """Take a user off a case's access list."""
    with errors_to_exit():
        services = services_for(db)
        found = services.case_service.find(case)
        services.case_access.revoke(found.case_id, username, actor=_actor())
    stderr_console.print(f"{username} can no longer open case {found.number}")
