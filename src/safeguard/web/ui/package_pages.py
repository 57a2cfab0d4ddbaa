"""Package pages for signed-in people: list and build, read, act, report outcomes, dashboard.

National analysts and supervisors see every package; a force's contact and officers see
only what was disseminated to their force (anything else is "not found", as for a package
that does not exist). Every view and change goes through the package services, which audit
it. State changes are POSTs carrying the session's CSRF token.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError, SafeguardError
from safeguard.domain.forces import all_forces, destination_name
from safeguard.domain.package_access import Viewer, viewer_of
from safeguard.domain.package_outcomes import Outcome, SeizedDevice
from safeguard.domain.packages import PackageState
from safeguard.reporting.operation_dashboard import dashboard_csv, render_dashboard_html
from safeguard.services.intel.outcomes import RECORDABLE
from safeguard.services.intel.packages import Override
from safeguard.services.intel.routing import AmbiguousRoutingError
from safeguard.services.people.sign_in import SignedIn
from safeguard.web.people import CsrfForm, CurrentUser, State
from safeguard.web.ui.rendering import render

router = APIRouter(prefix="/ui/packages", include_in_schema=False)


def _viewer(signed: SignedIn) -> Viewer:
    return viewer_of(signed.user)


def _refusal(request: Request, exc: SafeguardError) -> Response:
    status = (
        404
        if isinstance(exc, NotFoundError)
        else 403
        if isinstance(exc, AccessDeniedError)
        else 422
    )
    message = "Not found." if status == 404 else str(exc)
    return render(request, "message.html", status, title="Cannot do that", message=message)


@router.get("")
async def listing(request: Request, state: State, signed: CurrentUser) -> Response:
    """The packages the user may see, overdue ones flagged; the build form for national staff."""
    viewer = _viewer(signed)
    services = state.services
    packages = await run_in_threadpool(services.packages.listing, viewer)
    overdue = {
        p.package_id for p in await run_in_threadpool(services.dissemination.overdue, viewer)
    }
    return render(
        request,
        "packages.html",
        title="Intelligence packages",
        packages=packages,
        overdue=overdue,
        viewer=viewer,
        destination_name=destination_name,
        forces=all_forces(),
        error=request.query_params.get("error", ""),
    )


@router.post("")
async def build(request: Request, state: State, form: CsrfForm, signed: CurrentUser) -> Response:
    """Build a package for a subject (optionally its network, optionally routed by hand)."""
    viewer = _viewer(signed)
    override = None
    if form.get("destination"):
        override = Override(form["destination"], form.get("reason", ""))
    try:
        package = await run_in_threadpool(
            lambda: state.services.packages.build(
                viewer,
                form.get("subject", "").strip(),
                network=form.get("network") == "on",
                override=override,
                notes=form.get("notes", ""),
            )
        )
    except AmbiguousRoutingError as exc:
        return render(request, "message.html", 409, title="Choose the force", message=str(exc))
    except SafeguardError as exc:
        return _refusal(request, exc)
    return RedirectResponse(f"/ui/packages/{package.reference}", status_code=303)


@router.get("/dashboard")
async def dashboard(request: Request, state: State, signed: CurrentUser) -> Response:
    """The operation dashboard (a force's users see their force only)."""
    board = await run_in_threadpool(state.services.operation_dashboard.dashboard, _viewer(signed))
    response = Response(render_dashboard_html(board), media_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/dashboard.csv")
async def dashboard_export(state: State, signed: CurrentUser) -> Response:
    """The dashboard's figures as CSV."""
    board = await run_in_threadpool(state.services.operation_dashboard.dashboard, _viewer(signed))
    return Response(
        dashboard_csv(board),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="dashboard.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/{reference}")
async def package_page(
    reference: str, request: Request, state: State, signed: CurrentUser
) -> Response:
    """One package: its state, deadline, versions, actions, outcomes and (national) audit."""
    viewer = _viewer(signed)
    services = state.services

    def gather() -> dict[str, Any]:
        view = services.packages.read(viewer, reference, fmt="page")
        package = view.package
        versions = services.packages.versions(viewer, package.package_id)
        outcomes = services.package_outcomes.history(viewer, package.package_id)
        events = services.package_store.events(package.package_id) if viewer.national else []
        return {
            "package": package,
            "content": view.content,
            "shown_version": view.version,
            "versions": versions,
            "outcomes": outcomes,
            # The date input offers only the days the service accepts.
            "action_dates": services.package_outcomes.action_dates(package),
            "action_today": services.package_outcomes.today(),
            "events": events,
            "overdue": package.is_overdue(services.package_gate.clock()),
        }

    try:
        context = await run_in_threadpool(gather)
    except SafeguardError as exc:
        return _refusal(request, exc)
    package = context["package"]
    return render(
        request,
        "package.html",
        title=f"Package {reference.upper()}",
        viewer=viewer,
        destination_name=destination_name,
        forces=all_forces(),
        can_record=viewer.can_record_outcomes and getattr(package, "state", None) in RECORDABLE,
        states=PackageState,
        **context,
    )


@router.get("/{reference}/document.{fmt}")
async def document(
    reference: str,
    fmt: str,
    state: State,
    request: Request,
    signed: CurrentUser,
    version: int | None = None,
) -> Response:
    """The package as HTML, JSON or PDF (audited with its format)."""
    try:
        _view, body, media = await run_in_threadpool(
            state.services.package_documents.document, _viewer(signed), reference, fmt, version
        )
    except SafeguardError as exc:
        return _refusal(request, exc)
    return Response(body, media_type=media, headers={"Cache-Control": "no-store"})


_ACTIONS = {"approve", "send", "acknowledge", "return", "action", "close", "revise"}


@router.post("/{reference}/outcome")
async def outcome(
    reference: str, request: Request, state: State, form: CsrfForm, signed: CurrentUser
) -> Response:
    """Record what happened (the force's contact or officers)."""

    def number(name: str) -> int:
        raw = form.get(name, "").strip() or "0"
        if not raw.isdigit():
            raise InputError(f"{name.replace('_', ' ')} must be a whole number")
        return int(raw)

    def action_date() -> date:
        raw = form.get("occurred_on", "").strip()
        if not raw:  # blank means today, by the same clock the service checks against
            return state.services.package_outcomes.today()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InputError(f"date of action {raw!r} is not a date (YYYY-MM-DD)") from None

    try:
        devices = tuple(
            SeizedDevice(*(part.strip() for part in line.split("|")[:3]))
            for line in form.get("devices", "").splitlines()
            if line.strip()
        )
        rso = {"yes": True, "no": False}.get(form.get("registered_sex_offender", ""))
        report = Outcome(
            0,
            0,
            "",
            action_date(),
            premises_searched=number("premises_searched"),
            arrests=number("arrests"),
            voluntary_interviews=number("voluntary_interviews"),
            charges=number("charges"),
            devices=devices,
            children_safeguarded=number("children_safeguarded"),
            children_at_serious_risk=number("children_at_serious_risk"),
            safeguarding_basis=form.get("safeguarding_basis", ""),
            registered_sex_offender=rso,
            notes=form.get("notes", ""),
        )
        await run_in_threadpool(
            state.services.package_outcomes.record, _viewer(signed), reference, report
        )
    except ValueError as exc:
        return render(request, "message.html", 422, title="Cannot do that", message=str(exc))
    except SafeguardError as exc:
        return _refusal(request, exc)
    return RedirectResponse(f"/ui/packages/{reference}", status_code=303)


@router.post("/{reference}/{action}")
async def act(
    reference: str, action: str, request: Request, state: State, form: CsrfForm, signed: CurrentUser
) -> Response:
    """One workflow step on the package."""
    if action not in _ACTIONS:
        return render(request, "message.html", 404, title="Not found", message="No such action.")
    viewer = _viewer(signed)
    flow = state.services.dissemination
    steps = {
        "approve": lambda: flow.approve(viewer, reference),
        "send": lambda: flow.send(viewer, reference),
        "acknowledge": lambda: flow.acknowledge(viewer, reference),
        "return": lambda: flow.return_package(viewer, reference, form.get("reason", "")),
        "action": lambda: flow.action(viewer, reference),
        "close": lambda: flow.close(viewer, reference),
        "revise": lambda: state.services.packages.revise(
            viewer,
            reference,
            override=Override(form["destination"], form.get("reason", ""))
            if form.get("destination")
            else None,
            notes=form.get("notes") or None,
        ),
    }
    try:
        await run_in_threadpool(steps[action])
    except SafeguardError as exc:
        return _refusal(request, exc)
    return RedirectResponse(f"/ui/packages/{reference}", status_code=303)
