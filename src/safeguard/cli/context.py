"""What every command shares: the ``--db`` option, building `Services`, errors as messages.

Usage in a command module::

    @app.command()
    def thing(db: DbOption = None) -> None:
        with errors_to_exit():
            services = services_for(db)
            ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from safeguard.cli.output import stderr_console
from safeguard.domain.errors import SafeguardError
from safeguard.settings import database_url, load_settings

if TYPE_CHECKING:
    from safeguard.bootstrap import Services

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            "Database: a SQLAlchemy URL (postgresql://user@host/db, sqlite:///file.db) or a "
            "SQLite file path. Default: SAFEGUARD_DB / SAFEGUARD_DATABASE_URL, else "
            "safeguard.db in the data folder."
        ),
        show_default=False,
    ),
]
"""The ``--db`` option; pass its value to `services_for`."""


def services_for(
    db: str | None = None, *, read_only: bool = False, create: bool = False
) -> Services:
    """Services for the environment's settings, on the database ``--db`` names if given.

    Read-only commands pass ``read_only``: their store must exist at the current schema and
    is never created, initialised or migrated. Other commands may upgrade an existing store
    and create only the default one in the data folder; ``create`` (``safeguard db init``)
    may create any.
    """
    # Imported here so that `safeguard --help` and commands without a store stay fast.
    from safeguard.bootstrap import StoreAccess, build_services

    settings = load_settings()
    if db:
        settings = settings.with_overrides(database_url=database_url(db))
    access = StoreAccess.READ if read_only else StoreAccess.WRITE
    return build_services(settings, StoreAccess.CREATE if create else access, one_command=True)


@contextmanager
def errors_to_exit(code: int = 2) -> Iterator[None]:
    """Turn Safeguard's own errors into a one-line message on stderr and exit `code`."""
    try:
        yield
    except SafeguardError as exc:
        # Expected outcomes for a person at a terminal: a message, not a traceback.
        print_error(exc)
        raise typer.Exit(code) from exc


def print_error(exc: Exception) -> None:
    """Print `exc` as one ``error:`` line on stderr (what `errors_to_exit` shows)."""
    stderr_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)


def cli_actor() -> str:
    """Who is acting, for audit entries of CLI changes: ``cli:<operating-system user>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return f"cli:uid-{os.getuid()}" if hasattr(os, "getuid") else "cli"
