"""`safeguard --help` stays fast: registering every command loads no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

from safeguard.cli.lists_commands import EXPORT_FORMATS as CLI_EXPORT_FORMATS
from safeguard.services.hash_lists.management import EXPORT_FORMATS

HEAVY = ("numpy", "numba", "sqlalchemy", "alembic", "PIL", "pdqhash", "fastapi", "av", "pytsk3")
WIRING = (
    "safeguard.bootstrap",
    "safeguard.domain.packages",
    "phonenumbers",
    "jinja2",
    "importlib.metadata",
)
"""Loaded by commands when they run, never to list them: each costs tens of milliseconds."""

_PROBE = """
import json, sys
import safeguard.cli.app
after_import = sorted(sys.modules)
safeguard.cli.app._register()
print(json.dumps([after_import, sorted(sys.modules)]))
"""


def test_cli_start_up_imports_no_heavy_module() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    after_import, after_register = json.loads(out)
    for modules in (after_import, after_register):
        loaded = {name.split(".")[0] for name in modules}
        assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
        assert not set(modules) & set(WIRING), sorted(set(modules) & set(WIRING))


def test_help_lists_the_export_formats_the_service_writes() -> None:
    assert CLI_EXPORT_FORMATS == EXPORT_FORMATS
