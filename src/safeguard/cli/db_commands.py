"""`safeguard db init|upgrade|info`: create, upgrade and describe the store, on purpose only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import emit_json
from safeguard.domain.errors import StorageError
from safeguard.settings import Settings, database_url, load_settings

if TYPE_CHECKING:
    from safeguard.bootstrap import StoreStatus

db_app = typer.Typer(
    help="The store: create it, upgrade its schema, show where it is.", no_args_is_help=True
)
app.add_typer(db_app, name="db")


def _settings(db: str | None) -> Settings:
    settings = load_settings()
    if db:
        settings = settings.with_overrides(database_url=database_url(db))
    return settings


def _store_status(settings: Settings) -> StoreStatus:
    # Imported when run: `safeguard --help` need not load the store's wiring.
    from safeguard.bootstrap import store_status

    return store_status(settings)


def _where(db: str | None) -> str:
    return "" if db is None else f" --db {db}"


@db_app.command("init")
def init_command(db: DbOption = None) -> None:
    """Create the database (a SQLite file whose folder exists, or an empty PostgreSQL one)."""
    from safeguard.bootstrap import SchemaState

    with errors_to_exit():
        before = _store_status(_settings(db))
        if before.state is SchemaState.CURRENT:
            typer.echo(f"{before.url} is already a Safeguard database; nothing to do.")
            return
        services_for(db, create=True).engine.dispose()
        after = _store_status(_settings(db))
    typer.echo(f"Created the Safeguard database at {after.url}.")


@db_app.command("upgrade")
def upgrade_command(db: DbOption = None) -> None:
    """Bring an existing database to this version's schema."""
    from safeguard.bootstrap import SchemaState

    with errors_to_exit():
        before = _store_status(_settings(db))
        if before.state in (SchemaState.MISSING, SchemaState.EMPTY):
            raise StorageError(
                f"no Safeguard database at {before.url}; create it with "
                f"`safeguard db init{_where(db)}`"
            )
        if before.state is SchemaState.CURRENT:
            typer.echo(f"{before.url} is up to date; nothing to do.")
            return
        services_for(db).engine.dispose()
    typer.echo(f"Upgraded {before.url} to this version's schema.")


@db_app.command("info")
def info_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show the resolved store, its state and the data folder; changes nothing."""
    from safeguard.bootstrap import SchemaState

    with errors_to_exit():
        settings = _settings(db)
        status = _store_status(settings)
    record = {
        "database": status.url,
        "sqlite_file": None if status.sqlite_path is None else str(status.sqlite_path),
        "state": status.state.value,
        "schema_revisions": sorted(status.revisions),
        "schema_heads": sorted(status.heads),
        "data_folder": str(settings.data_dir),
        "index_folder": str(settings.data_dir / "index"),
        "from": "--db" if db else ("environment" if settings.database_url else "default"),
    }
    if as_json:
        emit_json(record)
        return
    advice = {
        SchemaState.MISSING: "does not exist yet (`safeguard db init` creates it)",
        SchemaState.EMPTY: "holds nothing yet (`safeguard db init` initialises it)",
        SchemaState.FOREIGN: "holds tables that are not Safeguard's",
        SchemaState.BEHIND: "needs `safeguard db upgrade`",
        SchemaState.CURRENT: "is up to date",
        SchemaState.AHEAD: "was written by a newer Safeguard",
    }[status.state]
    typer.echo(f"database:     {status.url} ({record['from']})")
    typer.echo(f"state:        {status.state.value}: {advice}")
    typer.echo(f"data folder:  {settings.data_dir}")
    typer.echo(f"index folder: {settings.data_dir / 'index'}")
