"""PDF of a package document, printed by headless Chromium.

Uses `safeguard.reporting.pdf_rendering.html_to_pdf` (issue 12) when it is present;
until that lands, a minimal local printer with the same signature stands in.
TODO(issue 12 merge): delete `_local_html_to_pdf` and import html_to_pdf directly.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from safeguard.domain.errors import ConfigurationError


def _local_html_to_pdf(html: str) -> bytes:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise ConfigurationError("printing a PDF needs Chromium (Debian package chromium)")
    with tempfile.TemporaryDirectory(prefix="safeguard-pdf-") as folder:
        page = Path(folder) / "package.html"
        pdf = Path(folder) / "package.pdf"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-pdf-header-footer",
                f"--user-data-dir={Path(folder) / 'profile'}",
                f"--print-to-pdf={pdf}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return pdf.read_bytes()


def _printer() -> Callable[[str], bytes]:
    try:
        module = importlib.import_module("safeguard.reporting.pdf_rendering")
    except ImportError:
        return _local_html_to_pdf
    printer: Callable[[str], bytes] = module.html_to_pdf
    return printer


def package_pdf(html: str) -> bytes:
    """The PDF bytes of a package's HTML document."""
    return _printer()(html)
