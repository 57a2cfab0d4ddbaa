"""The `safeguard` command: a root Typer app that registers one module per command group."""

from __future__ import annotations

import typer

from safeguard import __version__

app = typer.Typer(
    name="safeguard",
    help="Find known abuse imagery by hashing, and turn what is found into action.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"safeguard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Safeguard command line."""


def _register() -> None:
    # Each command group lives in its own module and registers itself on `app`.
    from safeguard.cli import (  # noqa: F401
        demo_command,
        farm_commands,
        hash_command,
        intel_commands,
        list_augment_command,
        lists_commands,
        match_command,
        packages_commands,
        review_commands,
        scan_commands,
        service_commands,
        users_commands,
    )


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
