"""What every command shares: the ``--db`` option, building `Services`, errors as messages.

Usage in a command module::

    @app.command()
    def thing(db: DbOption = None) -> None:
        with errors_to_exit():
            services = services_for(db)
            ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from safeguard.cli.output import stderr_console
from safeguard.domain.errors import SafeguardError
from safeguard.settings import load_settings

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


def database_url(db: str) -> str:
    """A SQLAlchemy URL for what ``--db`` was given: URLs as they are, paths as SQLite files."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def services_for(db: str | None = None) -> Services:
    """Services for the environment's settings, on the database ``--db`` names if given."""
    # Imported here so that `safeguard --help` and commands without a store stay fast.
    from safeguard.bootstrap import build_services

    settings = load_settings()
    if db:
        settings = settings.with_overrides(database_url=database_url(db))
    return build_services(settings)


@contextmanager
def errors_to_exit(code: int = 2) -> Iterator[None]:
    """Turn Safeguard's own errors into a one-line message on stderr and exit `code`."""
    try:
        yield
    except SafeguardError as exc:
        # Expected outcomes for a person at a terminal: a message, not a traceback.
        stderr_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code) from exc
