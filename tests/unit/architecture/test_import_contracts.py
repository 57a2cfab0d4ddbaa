"""The import contracts in pyproject.toml catch what docs/architecture.md forbids.

A copy of the package gets one violating module per rule, and `lint-imports` with the
project's own configuration must name each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]

VIOLATIONS = {
    "domain/probe_numpy.py": "import numpy\n",
    "domain/probe_ijson.py": "import ijson\n",
    "web/probe_adapter.py": "from safeguard.storage.sql import engine\n",
    "cli/probe_memory.py": "from safeguard.storage import memory_cases\n",
    "storage/probe_port.py": "import sqlalchemy\n",
    "web/probe_bootstrap_part.py": "from safeguard.bootstrap.stores import StoreWiring\n",
    "services/probe_demo.py": "from safeguard.services.demo import pictures\n",
}


def _lint(package_root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_root), "NO_COLOR": "1"}
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--config", str(REPOSITORY / "pyproject.toml"), "--no-cache"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_contracts_name_each_forbidden_import(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(
        REPOSITORY / "src" / "safeguard",
        copy / "safeguard",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for relative, source in VIOLATIONS.items():
        (copy / "safeguard" / relative).write_text(source)
    result = _lint(copy)
    assert result.returncode != 0
    out = result.stdout
    assert "safeguard.domain.probe_numpy imports numpy" in out
    assert "safeguard.domain.probe_ijson imports ijson" in out
    assert "safeguard.web.probe_adapter imports safeguard.storage.sql" in out
    assert "safeguard.cli.probe_memory imports safeguard.storage.memory_cases" in out
    assert "safeguard.storage.probe_port imports sqlalchemy" in out
    assert "safeguard.web.probe_bootstrap_part imports safeguard.bootstrap.stores" in out
    assert "safeguard.services.probe_demo imports safeguard.services.demo.pictures" in out
