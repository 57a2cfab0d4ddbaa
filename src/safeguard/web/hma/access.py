"""Who may call the HMA-compatible routes.

HMA itself has no authentication (it leaves that to a proxy). Safeguard never serves hash
lists unauthenticated, so each deployment picks one of two modes (`Settings.hma_api`):

* ``key``: the caller sends an API key as on ``/v1`` (``Authorization: Bearer <token>`` or
  ``X-API-Key: <token>``); hashing and matching need the ``match`` scope, bank changes
  ``lists:write``. Most HMA clients can add a header.
* ``loopback``: no key, but only clients on the loopback interface (127.0.0.1, ::1) are
  answered; any other address gets 403. For an HMA client running beside Safeguard on one
  host, or behind a proxy on that host that does its own authentication.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from ipaddress import ip_address

from fastapi import Depends, Request

from safeguard.domain.service import ApiKey, Scope
from safeguard.web.auth import actor_of, require
from safeguard.web.hma.signals import HmaError

Guard = Callable[..., Awaitable[str]]
"""A FastAPI dependency that admits the caller and returns how the audit log names it (also
left in ``request.state.hma_actor`` for routes that audit)."""


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def guard(mode: str, scope: Scope) -> Guard:
    """The dependency for `scope` under the deployment's `mode` (``key`` or ``loopback``)."""
    if mode == "loopback":

        async def loopback_only(request: Request) -> str:
            host = request.client.host if request.client else None
            if not _is_loopback(host):
                raise HmaError(403, "this Safeguard answers HMA calls from the loopback only")
            request.state.hma_actor = "hma:loopback"
            return "hma:loopback"

        return loopback_only

    # A default, not an annotation: annotations are resolved later, without this closure.
    async def with_key(request: Request, key: ApiKey = Depends(require(scope))) -> str:  # noqa: B008
        request.state.hma_actor = "hma:" + actor_of(key)
        return str(request.state.hma_actor)

    return with_key
