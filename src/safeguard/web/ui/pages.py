"""A server-rendered review queue for reports: hashes, distances, lists, provenance; no images.

Sign-in takes an API key with the ``reports:review`` scope and keeps it in an HttpOnly,
SameSite=Strict cookie (the strict cookie is what keeps other sites from posting
decisions). Decisions are audited exactly as through the API.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from safeguard.domain.service import ApiKey, ReportStatus, Scope
from safeguard.web.api.reports import decide_report
from safeguard.web.state import AppState, app_state

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Environment(
    loader=PackageLoader("safeguard.web.ui", "templates"), autoescape=select_autoescape()
)

COOKIE = "safeguard_review"
State = Annotated[AppState, Depends(app_state)]


def _page(name: str, http_status: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context), status_code=http_status)


async def _reviewer(request: Request, state: AppState) -> ApiKey | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found, key = state.key_cache.lookup(token)
    if not found:
        key = await run_in_threadpool(state.services.api_keys.authenticate, token)
        state.key_cache.remember(token, key)
    if key is None or not key.allows(Scope.REPORTS_REVIEW):
        return None
    return key


async def _form(request: Request) -> dict[str, str]:
    # The body is a few KB at most (`RequestGate`); a few fields are all a form here has.
    try:
        fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=20)
    except ValueError:  # more fields than any form here has
        return {}
    return {name: values[0] for name, values in fields.items() if values}


@router.get("/login", response_class=HTMLResponse)
def login_page() -> HTMLResponse:
    """The sign-in form."""
    return _page("login.html", title="Sign in")


@router.post("/login")
async def login(request: Request, state: State) -> Response:
    """Check the key and keep it in a strict, HttpOnly cookie."""
    token = (await _form(request)).get("token", "").strip()
    key = await run_in_threadpool(state.services.api_keys.authenticate, token) if token else None
    if key is None or not key.allows(Scope.REPORTS_REVIEW):
        return _page("login.html", 403, title="Sign in", error="That key cannot review reports.")
    response = RedirectResponse("/ui/reports", status_code=303)
    # Behind a TLS-terminating proxy the request arrives as http: trust_proxy_https says
    # the browser's side is https, so the cookie must be Secure anyway.
    secure = request.url.scheme == "https" or bool(state.services.settings.trust_proxy_https)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure)
    return response


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(request: Request, state: State, status: str = "pending") -> Response:
    """The queue of reports of one status."""
    key = await _reviewer(request, state)
    if key is None:
        return RedirectResponse("/ui/login", status_code=303)
    chosen = ReportStatus(status) if status in set(ReportStatus) else ReportStatus.PENDING
    reports = await run_in_threadpool(state.services.service_store.list_reports, chosen, 500)
    return _page(
        "reports.html",
        title="Reports for review",
        reports=reports,
        status=chosen.value,
        key_id=key.key_id,
    )


@router.post("/reports/{report_id}/{decision}")
async def decide(report_id: int, decision: str, request: Request, state: State) -> Response:
    """Confirm or dismiss a pending report, then back to the queue."""
    key = await _reviewer(request, state)
    if key is None:
        return RedirectResponse("/ui/login", status_code=303)
    statuses = {"confirm": ReportStatus.CONFIRMED, "dismiss": ReportStatus.DISMISSED}
    if decision not in statuses:
        return _page("login.html", 404, title="Not found", error="No such decision.")
    note = (await _form(request)).get("note") or None
    await run_in_threadpool(decide_report, state, key, report_id, statuses[decision], note)
    return RedirectResponse("/ui/reports", status_code=303)
