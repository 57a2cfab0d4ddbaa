"""A server-rendered review queue for platform reports: hashes, distances, lists; no images.

People sign in with their own account (`safeguard.web.ui.sign_in`); the queue needs the
``platform-reviewer`` (or ``admin``) role. Every decision form carries the session's CSRF
secret, and decisions are audited exactly as through the API, under the person's name.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from safeguard.domain.people import Role
from safeguard.domain.service import ReportStatus
from safeguard.services.people.sign_in import SignedIn
from safeguard.web.api.reports import decide_report
from safeguard.web.people import CsrfForm, State, require_roles
from safeguard.web.ui.rendering import render

router = APIRouter(prefix="/ui", include_in_schema=False)

Reviewer = Annotated[SignedIn, Depends(require_roles(Role.PLATFORM_REVIEWER, Role.ADMIN))]


@router.get("/reports")
async def reports_page(
    request: Request, state: State, signed: Reviewer, status: str = "pending"
) -> Response:
    """The queue of reports of one status."""
    chosen = ReportStatus(status) if status in set(ReportStatus) else ReportStatus.PENDING
    reports = await run_in_threadpool(state.services.service_store.list_reports, chosen, 500)
    return render(
        request, "reports.html", title="Reports for review", reports=reports, status=chosen.value
    )


@router.post("/reports/{report_id}/{decision}")
async def decide(
    report_id: int, decision: str, request: Request, state: State, signed: Reviewer, form: CsrfForm
) -> Response:
    """Confirm or dismiss a pending report, then back to the queue."""
    statuses = {"confirm": ReportStatus.CONFIRMED, "dismiss": ReportStatus.DISMISSED}
    if decision not in statuses:
        return render(request, "message.html", 404, title="Not found", message="No such decision.")
    note = form.get("note") or None
    actor = signed.user.actor
    await run_in_threadpool(decide_report, state, actor, report_id, statuses[decision], note)
    return RedirectResponse("/ui/reports", status_code=303)
