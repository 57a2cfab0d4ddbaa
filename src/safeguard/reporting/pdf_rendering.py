"""PDF from server-rendered HTML, printed by Debian's Chromium in headless mode.

Chromium is used because it implements the paged-media CSS the reports rely on: ``@page``
size and margins, margin boxes (``@top-left``, ``@bottom-right``) with ``counter(page)`` and
``counter(pages)`` for running headers and "Page N of M", and table headers repeated on every
page. The HTML is written to a private temporary folder and opened from there with the
network off, so a report can never fetch anything while it is printed.

Which browser: the ``browser`` argument, else ``SAFEGUARD_CHROMIUM`` (the settings' ``chromium``),
else ``/usr/bin/chromium``, else ``chromium`` or ``chromium-browser`` on the PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from safeguard.domain.errors import ConfigurationError, SafeguardError

DEFAULT_BROWSER = "/usr/bin/chromium"
"""Debian's Chromium (package ``chromium``)."""

BROWSER_ENV = "SAFEGUARD_CHROMIUM"
"""Environment variable naming the browser executable (also the ``chromium`` setting)."""

DEFAULT_TIMEOUT_S = 180.0
"""How long a browser may take to print one document."""


class PdfRenderingError(SafeguardError):
    """The browser ran but did not produce a PDF."""


def find_browser(browser: str | None = None) -> str:
    """The Chromium executable to print with.

    Raises:
        ConfigurationError: none found; the message names the Debian package to install.
    """
    candidates = [browser] if browser else []
    if not browser:
        configured = os.environ.get(BROWSER_ENV, "")
        candidates = (
            [configured] if configured else [DEFAULT_BROWSER, "chromium", "chromium-browser"]
        )
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise ConfigurationError(
        f"PDF output needs Chromium, and {candidates[0]!r} was not found: install the Debian "
        f"package 'chromium' (apt-get install chromium) or set {BROWSER_ENV} to its path"
    )


def _command(browser: str, page: Path, pdf: Path, profile: Path) -> list[str]:
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--disable-component-update",
        "--metrics-recording-only",
        "--mute-audio",
        # Everything but the local file is unreachable: no request can leave the machine.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw",
        f"--print-to-pdf={pdf}",
        page.as_uri(),
    ]


def html_to_pdf(
    html: str, *, browser: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> bytes:
    """Print an HTML document to PDF bytes with headless Chromium.

    The document must be self-contained (inline CSS and images); its ``@page`` rules set
    paper size, orientation, margins and running headers and footers.

    Args:
        html: the whole document.
        browser: the Chromium executable; default as the module docstring says.
        timeout: seconds before the browser is stopped.

    Raises:
        ConfigurationError: no Chromium is installed (the message says which package).
        PdfRenderingError: the browser failed, timed out or wrote no PDF.
    """
    executable = find_browser(browser)
    with tempfile.TemporaryDirectory(prefix="safeguard-pdf-") as folder:
        work = Path(folder)
        page = work / "document.html"
        page.write_text(html, encoding="utf-8")
        pdf = work / "document.pdf"
        try:
            finished = subprocess.run(
                _command(executable, page, pdf, work / "profile"),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfRenderingError(f"Chromium did not finish printing in {timeout:.0f} s") from exc
        except OSError as exc:
            raise PdfRenderingError(f"cannot run {executable}: {exc.strerror}") from exc
        if not pdf.is_file() or pdf.stat().st_size == 0:
            last = (finished.stderr.strip().splitlines() or ["no message"])[-1]
            raise PdfRenderingError(
                f"Chromium wrote no PDF (exit status {finished.returncode}): {last}"
            )
        data = pdf.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise PdfRenderingError("Chromium's output is not a PDF")
    return data
