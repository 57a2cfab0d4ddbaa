"""Signed-in people as FastAPI dependencies: sessions, roles, CSRF, case and force scoping.

Usage in a route (see /work/notes/people-access-api.md)::

    @router.get("/ui/cases/{case_id}")
    async def page(case_id: int, signed: Annotated[SignedIn, Depends(
            require_case_access(Role.EXAMINER))]) -> Response: ...

    @router.post("/ui/things")
    async def change(form: CsrfForm, signed: CurrentUser) -> Response: ...

- `current_user`: the session's user; without a valid session, pages redirect to the
  sign-in page and other routes answer 401 (`SignInRequiredError`).
- `require_roles(*roles)`: 403 unless the user holds one of `roles`.
- `require_case_access(*roles)`: reads the path's ``case_id``; 404 (nothing revealed)
  unless the user holds a role and is on the case's access list.
- `csrf_form` / `CsrfForm`: the parsed form of a state-changing request, 403 unless it
  carries the session's CSRF secret (form field ``csrf_token`` or ``X-CSRF-Token`` header).
- `csrf_header` / `CsrfChecked`: the same for JSON requests (``X-CSRF-Token`` header only).
- `ensure_force(user, force_code)`: 404 unless the user may see that force's work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from safeguard.domain.people import Role, User
from safeguard.services.people.sign_in import SignedIn
from safeguard.web.client_limits import REFUSAL, retry_after
from safeguard.web.state import AppState, app_state

SESSION_COOKIE = "safeguard_session"
"""The cookie holding the opaque session id (HttpOnly, SameSite=Strict, Path=/)."""

MAX_FORM_BYTES = 64 * 1024


class SignInRequiredError(Exception):
    """No valid session: pages redirect to sign-in, other routes answer 401."""


State = Annotated[AppState, Depends(app_state)]


def cookie_secure(request: Request, state: AppState) -> bool:
    """Whether to mark cookies Secure under the ``cookie_secure`` setting."""
    mode = state.services.settings.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def set_session_cookie(response: Response, request: Request, state: AppState, token: str) -> None:
    """Put the session id in an HttpOnly, SameSite=Strict cookie (Secure per settings)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request, state),
        path="/",
    )


async def read_form(request: Request) -> dict[str, str]:
    """The URL-encoded form of the request (first value of each field), read once.

    Raises:
        HTTPException: 413 over `MAX_FORM_BYTES`.
    """
    cached: dict[str, str] | None = getattr(request.state, "form_fields", None)
    if cached is not None:
        return cached
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "form too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    form = {name: values[0] for name, values in fields.items() if values}
    request.state.form_fields = form
    return form


async def optional_user(request: Request, state: State) -> SignedIn | None:
    """The session's user, or None without a valid session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    # Guessed or stale session ids cost a lookup each: charged to the address when they
    # fail, and not looked up at all while it is over its limit.
    limits = state.client_limits
    if (wait := limits.blocked(request.scope)) > 0:
        raise HTTPException(429, REFUSAL, headers={"Retry-After": retry_after(wait)})
    signed = await run_in_threadpool(state.services.sign_in.resolve, token)
    if signed is None and (wait := await limits.charge(request.scope)) > 0:
        raise HTTPException(429, REFUSAL, headers={"Retry-After": retry_after(wait)})
    request.state.signed_in = signed
    return signed


async def current_user(
    signed: Annotated[SignedIn | None, Depends(optional_user)],
) -> SignedIn:
    """The signed-in user; raises `SignInRequiredError` without a valid session."""
    if signed is None:
        raise SignInRequiredError()
    return signed


CurrentUser = Annotated[SignedIn, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[..., Awaitable[SignedIn]]:
    """A dependency admitting signed-in users holding one of `roles`; 403 for others."""

    async def dependency(signed: CurrentUser) -> SignedIn:
        if not signed.user.has_role(*roles):
            raise HTTPException(403, "your role does not allow this")
        return signed

    return dependency


def ensure_case_access(state: AppState, user: User, case_id: int) -> None:
    """404 unless `user` is on the case's access list (an unknown case looks the same)."""
    if not state.services.case_access.allows(user, case_id):
        raise HTTPException(404, "no such case")


def require_case_access(*roles: Role) -> Callable[..., Awaitable[SignedIn]]:
    """A dependency for routes with a ``case_id`` path parameter.

    The user must hold one of `roles` (403 otherwise) and be on that case's access list
    (404 otherwise, so nobody learns which cases exist).
    """
    role_check = require_roles(*roles)

    # A default, not Annotated: the annotation is a string and `role_check` is local.
    async def dependency(
        case_id: int,
        state: State,
        signed: SignedIn = Depends(role_check),  # noqa: B008
    ) -> SignedIn:
        await run_in_threadpool(ensure_case_access, state, signed.user, case_id)
        return signed

    return dependency


def ensure_force(user: User, force_code: str | None) -> None:
    """404 unless the user may see work routed to `force_code` (`User.sees_force`)."""
    if not user.sees_force(force_code):
        raise HTTPException(404, "not found")


async def csrf_form(request: Request, signed: CurrentUser) -> dict[str, str]:
    """The form of a state-changing request from a signed-in user, CSRF-checked (403)."""
    form = await read_form(request)
    presented = form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    if not signed.csrf_ok(presented):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
    return form


CsrfForm = Annotated[dict[str, str], Depends(csrf_form)]


async def csrf_header(request: Request, signed: CurrentUser) -> SignedIn:
    """For JSON requests from the page's script: 403 unless ``X-CSRF-Token`` is right."""
    if not signed.csrf_ok(request.headers.get("X-CSRF-Token")):
        raise HTTPException(403, "the X-CSRF-Token header is missing or wrong; reload the page")
    return signed


CsrfChecked = Annotated[SignedIn, Depends(csrf_header)]
