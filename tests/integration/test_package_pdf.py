"""The printed package: handling code C's conditions on every page, no images (poppler)."""

from __future__ import annotations

import random
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from safeguard.domain.package_content import EvidenceLine
from safeguard.services.intel.synthetic_dossiers import synthetic_dossier
from safeguard.storage.memory_cases import MemoryCaseStore
from safeguard.storage.memory_packages import MemoryPackageStore
from tests.conftest import require_tool
from tests.package_support import ANALYST, package_desk

pytestmark = pytest.mark.slow


def test_every_printed_page_carries_the_handling_conditions(tmp_path: Path) -> None:
    pdftotext, pdfimages = require_tool("pdftotext"), require_tool("pdfimages")
    require_tool("chromium")
    desk = package_desk(MemoryPackageStore(), MemoryCaseStore())
    dossier = synthetic_dossier(1, random.Random(1), force="kent")
    conditional = replace(
        dossier.referrals[0], handling_code="C", conditions="ORIGINATOR-CONSENT-ONLY"
    )
    evidence = tuple(
        EvidenceLine(
            "sha256", f"{i:064x}", "demo-known-bad", "1", "B", None, "2026-01-01", "2026-02-01"
        )
        for i in range(160)
    )
    desk.dossiers.add(replace(dossier, referrals=(conditional,), evidence=evidence))
    package = desk.packages.build(ANALYST, dossier.reference)
    _view, pdf, media = desk.documents.document(ANALYST, package.package_id, "pdf")
    assert media == "application/pdf"
    path = tmp_path / "package.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "ORIGINATOR-CONSENT-ONLY" in page, f"page {number} lacks the conditions"
        assert package.reference in page, f"page {number} lacks the reference"
    images = subprocess.run(
        [pdfimages, "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert len(images.strip().splitlines()) <= 2  # the header lines only: no image in a package
