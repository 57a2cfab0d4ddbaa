"""Package documents: HTML for people (printable, handling on every page) and JSON for systems.

Both are pure functions of one stored version, so the same version renders to the same
bytes every time and the SHA-256 recorded at issue can be checked later. No image is ever
part of a package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from safeguard.domain.package_content import PackageContent


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """What the document says about the version it renders."""

    reference: str
    version: int
    sha256: str
    created_at: str
    created_by: str
    destination_name: str


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("safeguard.reporting", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


_TEMPLATE = _environment().get_template("intel_package.html.j2")


def render_package_html(meta: DocumentMeta, content: PackageContent) -> str:
    """The self-contained HTML document (inline CSS, no scripts, no images)."""
    return _TEMPLATE.render(meta=meta, c=content)


def package_json(meta: DocumentMeta, content: PackageContent) -> dict[str, Any]:
    """The machine-readable document: the version's metadata and its full content."""
    return {
        "reference": meta.reference,
        "version": meta.version,
        "sha256": meta.sha256,
        "created_at": meta.created_at,
        "created_by": meta.created_by,
        "destination_name": meta.destination_name,
        "content": content.to_dict(),
    }


def render_package_json(meta: DocumentMeta, content: PackageContent) -> str:
    """`package_json` as indented text."""
    return json.dumps(package_json(meta, content), indent=2, ensure_ascii=False, sort_keys=True)
