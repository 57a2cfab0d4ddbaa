"""`python -m safeguard` runs the command-line interface."""

from safeguard.cli.app import main

main()
