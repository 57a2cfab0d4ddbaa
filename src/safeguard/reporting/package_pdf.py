"""PDF of a package document, printed by headless Chromium (`pdf_rendering.html_to_pdf`)."""

from __future__ import annotations

from safeguard.reporting.pdf_rendering import html_to_pdf


def package_pdf(html: str, browser: str | None = None) -> bytes:
    """The PDF bytes of a package's HTML document.

    Raises:
        ConfigurationError: no Chromium to print with (the message names the package).
    """
    return html_to_pdf(html, browser=browser)
