"""The `safeguard` command: a root Typer app that registers one module per command group."""

from __future__ import annotations

import sys
from typing import Any

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
        db_commands,
        demo_command,
        farm_commands,
        hash_command,
        intel_commands,
        list_augment_command,
        lists_commands,
        match_command,
        packages_commands,
        retroactive_commands,
        review_commands,
        scan_commands,
        service_commands,
        users_commands,
    )


def _tidy_help(command: Any) -> None:
    # Typer labels every value with its Python type ("<str>", "<bool>"); people read the
    # option's own name (--case CASE), the choices, and nothing after a flag.
    help_option = command.get_help_option(command.context_class(command))
    if help_option is not None:
        help_option.metavar = ""
    for param in command.params:
        if param.param_type_name == "argument":
            # The argument's name already says what it is ("EXHIBIT"); no "<path>" beside it.
            param.display_type_rich = lambda ctx: None
        if param.metavar is not None or not param.name:
            continue
        described = getattr(param, "type_descriptor", None)
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
        elif described is not None and described.is_choice:
            param.metavar = "|".join(
                str(getattr(choice, "value", choice)) for choice in described.choices or ()
            )
        else:
            param.metavar = param.name.upper()
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


def cli_command() -> Any:
    """The click command behind `app`, every group registered, its help tidied."""
    _register()
    command = typer.main.get_command(app)
    _tidy_help(command)
    return command


def main() -> None:
    """Console-script entry point."""
    from safeguard.cli.output import OutputClosedError
    from safeguard.domain.errors import ConfigurationError

    try:
        cli_command().main(prog_name="safeguard")
    except OutputClosedError:
        # The reader of our output went away (`| head`): that is not an error.
        sys.exit(0)
    except ConfigurationError as exc:
        # A SAFEGUARD_* setting out of range, met by a command that builds its services
        # outside `errors_to_exit`: the same one line and status, never a traceback.
        from safeguard.cli.context import print_error

        print_error(exc)
        sys.exit(2)
