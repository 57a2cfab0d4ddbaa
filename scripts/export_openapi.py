"""Write the HTTP API's OpenAPI schema to docs/openapi.json (or check that it is current).

Usage: uv run --no-sync python scripts/export_openapi.py [--check]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from safeguard.bootstrap import build_services
from safeguard.settings import Settings
from safeguard.web.app import create_app

TARGET = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def openapi_text() -> str:
    """The schema as committed: sorted keys, two-space indent, final newline."""
    with tempfile.TemporaryDirectory() as folder:
        # Building the schema touches no database: services are only built on first use.
        app = create_app(build_services(Settings(data_dir=Path(folder))), background=False)
        return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the schema, or with ``--check`` exit 1 when the committed one differs."""
    text = openapi_text()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run scripts/export_openapi.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
