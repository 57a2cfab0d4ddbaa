"""Folders of saved indexes: write beside, swap in by renames, and check the manifest on open.

An index folder holds ``.npy`` arrays and a ``manifest.json`` naming the format and version;
nothing is pickled. Saving never deletes a folder that is not itself a saved index.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from safeguard.domain.errors import StorageError

MANIFEST = "manifest.json"


def staging_folder(target: Path) -> Path:
    """An empty sibling folder of `target` to write a new index into.

    Raises:
        StorageError: `target` exists but is not a saved index (it would be replaced).
    """
    if target.exists() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise StorageError(f"{target} exists and is not a saved index; refusing to replace it")
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def write_manifest(staging: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest last, so a folder with one is complete."""
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def swap_in(staging: Path, target: Path) -> None:
    """Replace `target` with the fully written `staging` folder using renames.

    Files of the old index stay readable by any process that has them memory-mapped.
    """
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    if retired.exists():
        shutil.rmtree(retired)
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    if retired.exists():
        shutil.rmtree(retired)


def read_manifest(folder: Path, format_name: str, version: int) -> dict[str, Any]:
    """The manifest of a saved index, checked for format and version.

    Raises:
        StorageError: no readable manifest, or another format or version.
    """
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise StorageError(f"no readable index manifest in {folder}") from exc
    if manifest.get("format") != format_name or manifest.get("version") != version:
        raise StorageError(
            f"{folder} holds {manifest.get('format')!r} version {manifest.get('version')!r}; "
            f"this build reads {format_name!r} version {version}"
        )
    return manifest
