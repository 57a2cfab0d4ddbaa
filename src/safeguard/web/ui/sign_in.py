"""Sign-in and sign-out pages, and the signed-in home page.

The sign-in form carries its own CSRF secret (a double-submit cookie), since there is no
session yet; every later form carries the session's. Refusals look the same whatever the
reason, and each is audited by the sign-in service.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from safeguard.domain.people import Role
from safeguard.services.people.sign_in import SignedIn, SignInRefusedError
from safeguard.web.client_limits import REFUSAL, retry_after
from safeguard.web.people import (
    SESSION_COOKIE,
    CsrfForm,
    CurrentUser,
    State,
    cookie_secure,
    optional_user,
    read_form,
    set_session_cookie,
)
from safeguard.web.ui.rendering import render

router = APIRouter(prefix="/ui", include_in_schema=False)

LOGIN_CSRF_COOKIE = "safeguard_login_csrf"


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target


def _login_form(request: Request, state: State, status: int = 200, **context: object) -> Response:
    secret = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status,
        title="Sign in",
        login_csrf=secret,
        next=safe_next(request.query_params.get("next")),
        **context,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request, state),
        path="/ui/login",
    )
    return response


@router.get("/login")
async def login_page(request: Request, state: State) -> Response:
    """The sign-in form."""
    return _login_form(request, state)


@router.post("/login")
async def login(request: Request, state: State) -> Response:
    """Check the name and password; on success start a session and go on."""
    # Every attempt costs a password hash: charged to the address first (once: a request
    # without credentials was charged by the gate already).
    if (wait := await state.client_limits.charge(request.scope)) > 0:
        raise HTTPException(429, REFUSAL, headers={"Retry-After": retry_after(wait)})
    form = await read_form(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    presented = form.get("login_csrf", "")
    if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
        return _login_form(request, state, 403, error="The form expired; please sign in again.")
    try:
        signed = await run_in_threadpool(
            state.services.sign_in.sign_in, form.get("username", ""), form.get("password", "")
        )
    except SignInRefusedError as exc:
        return _login_form(request, state, 403, error=str(exc))
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    set_session_cookie(response, request, state, signed.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
async def logout(request: Request, state: State, form: CsrfForm, signed: CurrentUser) -> Response:
    """End the session and go back to the sign-in page."""
    await run_in_threadpool(state.services.sign_in.sign_out, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home(
    request: Request, signed: Annotated[SignedIn | None, Depends(optional_user)]
) -> Response:
    """What the signed-in user can open."""
    if signed is None:
        return RedirectResponse("/ui/login", status_code=303)
    links: list[tuple[str, str]] = []
    if signed.user.has_role(Role.EXAMINER):
        links.append(("/ui/review", "Examiner review: cases assigned to you"))
    if signed.user.has_role(
        Role.NATIONAL_ANALYST,
        Role.NATIONAL_SUPERVISOR,
        Role.FORCE_CONTACT,
        Role.FORCE_OFFICER,
        Role.AUDITOR,
    ):
        links.append(("/ui/packages", "Intelligence packages"))
    if signed.user.has_role(Role.PLATFORM_REVIEWER, Role.ADMIN):
        links.append(("/ui/reports", "Platform reports for review"))
    return render(request, "home.html", title="Safeguard", links=links)
