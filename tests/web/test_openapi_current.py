from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_schema_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "export_openapi", ROOT / "scripts" / "export_openapi.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == module.openapi_text(), (
        "run: uv run --no-sync python scripts/export_openapi.py"
    )
    paths = json.loads(committed)["paths"]
    for path in (
        "/v1/hash",
        "/v1/match",
        "/v1/match/batch",
        "/v1/lists",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths


def test_every_schema_reference_resolves() -> None:
    import re

    text = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    defined = set(json.loads(text)["components"]["schemas"])
    assert set(re.findall(r"#/components/schemas/(\w+)", text)) <= defined
