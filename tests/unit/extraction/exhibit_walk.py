"""Walk an exhibit the way the scan pipeline must: read each item while it is current."""

from __future__ import annotations

import hashlib
from pathlib import Path

from safeguard.domain.errors import EvidenceError
from safeguard.extraction.contract import EvidenceItem, ExtractionLimits
from safeguard.extraction.registry import open_exhibit


def walk(
    path: Path, limits: ExtractionLimits | None = None
) -> tuple[dict[str, EvidenceItem], dict[str, str]]:
    """Items by path, and for readable items the MD5 of their content or ``error: ...``."""
    items: dict[str, EvidenceItem] = {}
    digests: dict[str, str] = {}
    for item in open_exhibit(path, limits):
        assert item.path not in items, f"duplicate path {item.path}"
        items[item.path] = item
        if item.readable:
            try:
                with item.open() as stream:
                    digest = hashlib.md5()
                    while chunk := stream.read(1 << 20):
                        digest.update(chunk)
                    digests[item.path] = digest.hexdigest()
            except EvidenceError as exc:
                digests[item.path] = f"error: {exc}"
    return items, digests


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()
