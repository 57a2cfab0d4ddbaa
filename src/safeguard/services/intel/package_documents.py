"""A package version as a document: HTML, JSON or PDF, for people and systems."""

from __future__ import annotations

import hashlib

from safeguard.domain.errors import InputError
from safeguard.domain.forces import destination_name
from safeguard.domain.package_access import Viewer
from safeguard.reporting.intel_package import (
    DocumentMeta,
    render_package_html,
    render_package_json,
)
from safeguard.reporting.package_pdf import package_pdf
from safeguard.services.intel.packages import PackageService, PackageView

FORMATS = {"html": "text/html; charset=utf-8", "json": "application/json", "pdf": "application/pdf"}


def meta_of(view: PackageView) -> DocumentMeta:
    """The document header for a version."""
    return DocumentMeta(
        reference=view.package.reference,
        version=view.version.number,
        sha256=view.version.sha256,
        created_at=view.version.created_at.isoformat(timespec="seconds"),
        created_by=view.version.created_by,
        destination_name=destination_name(view.content.destination),
    )


def html_of(view: PackageView) -> str:
    """The version's HTML document (the same bytes every time)."""
    return render_package_html(meta_of(view), view.content)


def html_sha256(view: PackageView) -> str:
    """SHA-256 of the version's HTML document, as recorded at issue."""
    return hashlib.sha256(html_of(view).encode("utf-8")).hexdigest()


def render(view: PackageView, fmt: str) -> bytes:
    """The version in `fmt` (``html``, ``json`` or ``pdf``).

    Raises:
        InputError: an unknown format.
    """
    if fmt == "html":
        return html_of(view).encode("utf-8")
    if fmt == "json":
        return render_package_json(meta_of(view), view.content).encode("utf-8")
    if fmt == "pdf":
        return package_pdf(html_of(view))
    raise InputError(f"unknown package format {fmt!r}; use html, json or pdf")


class PackageDocuments:
    """Reading a package as a document: access-checked and audited with the format."""

    def __init__(self, packages: PackageService) -> None:
        self._packages = packages

    def document(
        self, viewer: Viewer, package_ref: int | str, fmt: str = "html", version: int | None = None
    ) -> tuple[PackageView, bytes, str]:
        """(the version read, its bytes in `fmt`, the media type)."""
        if fmt not in FORMATS:
            raise InputError(f"unknown package format {fmt!r}; use html, json or pdf")
        view = self._packages.read(viewer, package_ref, version, fmt=fmt)
        return view, render(view, fmt), FORMATS[fmt]
