"""A Hasher-Matcher-Actioner-compatible surface, so HMA 2.0 clients can call Safeguard.

Off by default; `Settings.hma_api` switches it on per deployment (``key`` or ``loopback``, see
`safeguard.web.hma.access`). The routes call the same services as ``/v1``. See
docs/hma-compatibility.md for what maps onto what and what is refused.
"""

from __future__ import annotations

from fastapi import FastAPI

from safeguard.web.hma.curation import curation_router
from safeguard.web.hma.matching import matching_router, status_router
from safeguard.web.hma.signals import HmaError, hma_error_response


def install(app: FastAPI, mode: str) -> None:
    """Add the HMA routes to `app` when `mode` is ``key`` or ``loopback``; nothing for ``off``."""
    if mode == "off":
        return
    app.add_exception_handler(HmaError, hma_error_response)
    app.include_router(status_router())
    app.include_router(matching_router(mode))
    app.include_router(curation_router(mode))


__all__ = ["HmaError", "install"]
