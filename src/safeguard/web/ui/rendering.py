"""Rendering server-side pages: one Jinja environment, the signed-in user in every page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

templates = Environment(
    loader=PackageLoader("safeguard.web.ui", "templates"), autoescape=select_autoescape()
)


def render(
    request: Request | None, name: str, http_status: int = 200, **context: object
) -> HTMLResponse:
    """Render template `name` as a page that no cache keeps.

    Pages get ``signed`` (the signed-in user or None) and ``csrf_token`` (the session's, for
    forms) unless the context sets them.
    """
    signed = getattr(request.state, "signed_in", None) if request is not None else None
    context.setdefault("signed", signed)
    context.setdefault("csrf_token", signed.csrf_token if signed is not None else "")
    response = HTMLResponse(templates.get_template(name).render(**context), status_code=http_status)
    # Pages show case data: never keep them in shared or browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response
