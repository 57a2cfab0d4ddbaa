"""Command-line interface (Typer). The only package that imports rich."""
