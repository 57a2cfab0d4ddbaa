"""`safeguard serve` runs the matching service; `safeguard keys ...` manages its API keys."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from safeguard.cli.app import app
from safeguard.cli.context import DbOption, errors_to_exit, services_for
from safeguard.cli.output import emit_json, stderr_console
from safeguard.domain.extras import import_extra
from safeguard.domain.service import ApiKey, parse_scopes
from safeguard.settings import database_url

keys_app = typer.Typer(help="API keys of the matching service (stored hashed).")
app.add_typer(keys_app, name="keys", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes; they share one index on disk.", min=1)
    ] = 1,
    db: DbOption = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Run the HTTP matching service (API at /v1, docs at /docs, metrics at /metrics)."""
    with errors_to_exit():
        import_extra("uvicorn", "server", "the matching service")
        import_extra("fastapi", "server", "the matching service")
    # Imported only now: it needs uvicorn, which the base install does not have.
    from safeguard.cli.serving import serve as serve_workers

    with errors_to_exit():
        if db:
            # Workers are fresh processes: they read the database from the environment.
            os.environ["SAFEGUARD_DATABASE_URL"] = database_url(db)
        # Workers answer uploads while imports write: a short lock wait, then the upload is
        # answered from the index and recorded later (see docs/service.md).
        os.environ.setdefault("SAFEGUARD_SQLITE_BUSY_TIMEOUT_MS", "2000")
        # Migrate once here, so that workers starting together do not race to do it; a store
        # that cannot be opened is a one-line error (`bootstrap` names what is wrong).
        _ = services_for(db).engine
    stderr_console.print(f"serving on http://{host}:{port} with {workers} worker(s)")
    serve_workers(host, port, workers, log_level)


def _key_record(key: ApiKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "scopes": sorted(s.value for s in key.scopes),
        "rate_per_minute": key.rate_per_minute,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    scopes: Annotated[
        str,
        typer.Option(
            help="Comma-separated: match, lists:write, reports:review, intel:read, intel:write, admin."
        ),
    ],
    rate: Annotated[
        int | None, typer.Option(help="Requests a minute (default: the service's).", min=1)
    ] = None,
    db: DbOption = None,
) -> None:
    """Issue a key; its token is printed once and cannot be shown again."""
    with errors_to_exit():
        issued = services_for(db).api_keys.create(name, parse_scopes(scopes), rate)
    emit_json({**_key_record(issued.key), "token": issued.token})
    stderr_console.print("Keep the token now: only its hash is stored.")


@keys_app.command("list")
def keys_list(db: DbOption = None) -> None:
    """Every key (no secrets: none are stored), one JSON line each."""
    with errors_to_exit():
        keys = services_for(db, read_only=True).api_keys.list_keys()
    for key in keys:
        emit_json(_key_record(key))


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after 'sg_').")],
    db: DbOption = None,
) -> None:
    """Revoke a key; running servers stop accepting it within seconds."""
    with errors_to_exit():
        key = services_for(db).api_keys.revoke(key_id)
    emit_json(_key_record(key))
