"""Examiner review pages: cases on the examiner's access list, the grid, publication.

Every route needs the examiner role and the case on the user's access list (404 for any
other case). Thumbnails are blurred (`ReviewService.thumbnail`); an unblurred picture is
served only with the one-time ticket an audited reveal returned, and nothing is cached.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from safeguard.domain.cases import Case, Exhibit
from safeguard.domain.errors import NotFoundError, SafeguardError
from safeguard.domain.people import Role
from safeguard.domain.review import GradingScheme
from safeguard.services.people.sign_in import SignedIn
from safeguard.services.review.thumbnails import ThumbnailError
from safeguard.services.review.wellbeing import WellbeingSettings
from safeguard.web.people import CsrfChecked, CsrfForm, State, require_case_access, require_roles
from safeguard.web.state import AppState
from safeguard.web.ui.rendering import render

router = APIRouter(prefix="/ui/review", include_in_schema=False)

Examiner = Annotated[SignedIn, Depends(require_roles(Role.EXAMINER))]
OnCase = Annotated[SignedIn, Depends(require_case_access(Role.EXAMINER))]
PER_PAGE = 200
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_SCRIPT = files("safeguard.web.ui").joinpath("static", "review.js").read_bytes()


def _case(state: AppState, case_id: int) -> Case:
    return state.services.case_service.store.case_by_id(case_id)


def _case_exhibit(state: AppState, case_id: int, exhibit_id: int) -> tuple[Case, Exhibit]:
    case = _case(state, case_id)
    try:
        return case, state.services.review.exhibit_of(case, exhibit_id)
    except NotFoundError:
        raise HTTPException(404, "no such exhibit") from None


def _base(case_id: int, exhibit_id: int) -> str:
    return f"/ui/review/cases/{case_id}/exhibits/{exhibit_id}"


@router.get("/static/review.js")
def script() -> Response:
    """The grid's keyboard handling (a file, so a strict CSP can forbid inline scripts)."""
    return Response(_SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("")
async def cases_page(request: Request, state: State, signed: Examiner) -> Response:
    """The cases on the examiner's access list, with their exhibits."""

    def load() -> list[dict[str, Any]]:
        services = state.services
        rows = []
        for case_id in sorted(services.case_access.cases_of(signed.user)):
            summary = services.case_service.summary(str(_case(state, case_id).case_id))
            exhibits = [
                (e.exhibit, services.review_store.item_count(e.exhibit.exhibit_id))
                for e in summary.exhibits
            ]
            rows.append(
                {
                    "case": summary.case,
                    "scheme": services.review.scheme(summary.case),
                    "exhibits": exhibits,
                }
            )
        return rows

    cases = await run_in_threadpool(load)
    return render(
        request,
        "review_cases.html",
        title="Examiner review",
        cases=cases,
        schemes=list(GradingScheme),
    )


@router.post("/cases/{case_id}/scheme")
async def set_scheme(case_id: int, state: State, signed: OnCase, form: CsrfForm) -> Response:
    """Choose the case's grading scheme."""
    try:
        scheme = GradingScheme(form.get("scheme", ""))
    except ValueError:
        raise HTTPException(422, "unknown grading scheme") from None
    case = _case(state, case_id)
    await run_in_threadpool(state.services.review.set_scheme, case, scheme, signed.user.actor)
    return RedirectResponse("/ui/review", status_code=303)


@router.post("/cases/{case_id}/exhibits/{exhibit_id}/prepare")
async def prepare(
    case_id: int, exhibit_id: int, state: State, signed: OnCase, form: CsrfForm
) -> Response:
    """List the exhibit's items for review and group near-duplicates (reads the exhibit)."""
    case, exhibit = _case_exhibit(state, case_id, exhibit_id)
    await run_in_threadpool(
        state.services.review_preparation.prepare, case, exhibit, signed.user.actor
    )
    return RedirectResponse(_base(case_id, exhibit_id), status_code=303)


@router.get("/cases/{case_id}/exhibits/{exhibit_id}")
async def grid(
    case_id: int,
    exhibit_id: int,
    request: Request,
    state: State,
    signed: OnCase,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Response:
    """One page of the grid (paginated: a page holds at most 500 items)."""
    per_page = min(max(per_page, 10), 500)

    def load() -> tuple[Case, Exhibit, Any, WellbeingSettings]:
        case, exhibit = _case_exhibit(state, case_id, exhibit_id)
        grid_page = state.services.review.page(case, exhibit, page, per_page)
        return case, exhibit, grid_page, state.services.wellbeing.of(signed.user)

    case, exhibit, grid_page, wellbeing = await run_in_threadpool(load)
    return render(
        request,
        "review_grid.html",
        title=f"Review {case.number} · {exhibit.reference}",
        case=case,
        exhibit=exhibit,
        grid=grid_page,
        base=_base(case_id, exhibit_id),
        per_page=per_page,
        wellbeing=wellbeing,
    )


@router.get("/cases/{case_id}/exhibits/{exhibit_id}/items/{item_no}/thumb")
async def thumbnail(
    case_id: int, exhibit_id: int, item_no: int, state: State, signed: OnCase
) -> Response:
    """The item's blurred thumbnail (JPEG); never unblurred."""

    def make() -> bytes:
        _, exhibit = _case_exhibit(state, case_id, exhibit_id)
        view = state.services.wellbeing.of(signed.user).view
        return state.services.review.thumbnail(exhibit, item_no, view)

    try:
        data = await run_in_threadpool(make)
    except ThumbnailError:
        raise HTTPException(404, "no picture can be made of this item") from None
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.post("/cases/{case_id}/exhibits/{exhibit_id}/items/{item_no}/reveal")
async def reveal(
    case_id: int, exhibit_id: int, item_no: int, state: State, signed: OnCase, _csrf: CsrfChecked
) -> JSONResponse:
    """Audit a reveal of this one item and answer with a one-time address to fetch it."""

    def ticket() -> str:
        case, exhibit = _case_exhibit(state, case_id, exhibit_id)
        return state.services.review.reveal(case, exhibit, item_no, signed.user)

    issued = await run_in_threadpool(ticket)
    url = f"{_base(case_id, exhibit_id)}/items/{item_no}/revealed?ticket={issued}"
    return JSONResponse({"url": url}, headers=NO_STORE)


@router.get("/cases/{case_id}/exhibits/{exhibit_id}/items/{item_no}/revealed")
async def revealed(
    case_id: int, exhibit_id: int, item_no: int, state: State, signed: OnCase, ticket: str = ""
) -> Response:
    """The unblurred picture, once, for the user who revealed it (404 otherwise)."""

    def load() -> bytes:
        _, exhibit = _case_exhibit(state, case_id, exhibit_id)
        return state.services.review.revealed(exhibit, item_no, signed.user, ticket)

    try:
        data = await run_in_threadpool(load)
    except ThumbnailError:
        raise HTTPException(404, "no picture can be made of this item") from None
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.post("/cases/{case_id}/exhibits/{exhibit_id}/grades")
async def grade(
    case_id: int,
    exhibit_id: int,
    state: State,
    signed: OnCase,
    _csrf: CsrfChecked,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """Grade items (and whole groups) with one key: ``{"items": [..], "groups": [..], "key": "1"}``."""
    try:
        items = [int(n) for n in body.get("items", [])]
        groups = [int(n) for n in body.get("groups", [])]
        key = str(body.get("key", ""))
    except (TypeError, ValueError):
        raise HTTPException(422, "items and groups are lists of numbers") from None

    def record() -> list[dict[str, Any]]:
        case, exhibit = _case_exhibit(state, case_id, exhibit_id)
        done = state.services.review.grade(case, exhibit, items, key, signed.user, groups=groups)
        return [
            {"item": g.item_no, "code": g.code, "label": g.option.label, "examiner": g.examiner}
            for g in done
        ]

    try:
        graded = await run_in_threadpool(record)
    except SafeguardError as exc:
        raise HTTPException(422 if not isinstance(exc, NotFoundError) else 404, str(exc)) from exc
    return JSONResponse({"graded": graded}, headers=NO_STORE)


@router.get("/cases/{case_id}/exhibits/{exhibit_id}/items/{item_no}")
async def item_detail(
    case_id: int, exhibit_id: int, item_no: int, state: State, signed: OnCase
) -> JSONResponse:
    """An item's path, group members with distances, list suggestion and grade history."""

    def load() -> dict[str, Any]:
        _, exhibit = _case_exhibit(state, case_id, exhibit_id)
        review = state.services.review
        item = review.store.item(exhibit.exhibit_id, item_no)
        group = review.group_of(exhibit, item_no) if item.group_no is not None else []
        suggestion = item.suggestion
        return {
            "item": item.item_no,
            "path": item.path,
            "video": item.is_video,
            "group": item.group_no,
            "members": [{"item": m.item_no, "distance": m.group_distance} for m in group],
            "suggestion": None
            if suggestion is None
            else {
                "list": suggestion.list_name,
                "entry": suggestion.entry_id,
                "distance": suggestion.distance,
                "category": suggestion.category.label,
            },
            "history": [
                {
                    "code": g.code,
                    "label": g.option.label,
                    "examiner": g.examiner,
                    "at": g.at.isoformat(),
                }
                for g in review.history(exhibit, item_no)
            ],
        }

    return JSONResponse(await run_in_threadpool(load), headers=NO_STORE)


@router.get("/cases/{case_id}/publish")
async def publish_page(case_id: int, request: Request, state: State, signed: OnCase) -> Response:
    """Grade counts, and publication requests with their four-eyes decision."""

    def load() -> tuple[Case, Any, Any]:
        case = _case(state, case_id)
        return (
            case,
            state.services.review.grade_counts(case),
            state.services.review_publication.publications(case),
        )

    case, counts, publications = await run_in_threadpool(load)
    return render(
        request,
        "review_publish.html",
        title=f"Publish grades of {case.number}",
        case=case,
        counts=sorted(counts.items()),
        publications=publications,
        error=request.query_params.get("error", ""),
    )


@router.post("/cases/{case_id}/publish")
async def request_publication(
    case_id: int, state: State, signed: OnCase, form: CsrfForm
) -> Response:
    """Ask for the case's grades to be published; a second examiner must confirm."""
    case = _case(state, case_id)
    where = f"/ui/review/cases/{case_id}/publish"
    try:
        await run_in_threadpool(state.services.review_publication.request, case, signed.user)
    except SafeguardError as exc:
        return RedirectResponse(f"{where}?error={type(exc).__name__}", status_code=303)
    return RedirectResponse(where, status_code=303)


@router.post("/cases/{case_id}/publish/{publication_id}/{decision}")
async def decide_publication(
    case_id: int, publication_id: int, decision: str, state: State, signed: OnCase, form: CsrfForm
) -> Response:
    """Confirm (and publish) or reject another examiner's request."""
    service = state.services.review_publication
    actions = {"confirm": service.confirm, "reject": service.reject}
    if decision not in actions:
        raise HTTPException(404, "no such decision")
    case = _case(state, case_id)
    where = f"/ui/review/cases/{case_id}/publish"
    try:
        await run_in_threadpool(actions[decision], case, publication_id, signed.user)
    except SafeguardError as exc:
        return RedirectResponse(f"{where}?error={type(exc).__name__}", status_code=303)
    return RedirectResponse(where, status_code=303)


@router.get("/preferences")
async def preferences_page(request: Request, state: State, signed: Examiner) -> Response:
    """Blur strength, greyscale and break reminders for this examiner."""
    settings = await run_in_threadpool(state.services.wellbeing.of, signed.user)
    return render(request, "review_preferences.html", title="Review settings", settings=settings)


@router.post("/preferences")
async def save_preferences(state: State, signed: Examiner, form: CsrfForm) -> Response:
    """Store the examiner's choices (blur never below the minimum)."""
    try:
        wanted = WellbeingSettings(
            blur=float(form.get("blur", "8")),
            greyscale=form.get("greyscale") == "1",
            break_minutes=int(form.get("break_minutes", "45")),
            muted=True,
        )
    except ValueError:
        raise HTTPException(422, "blur and break minutes are numbers") from None
    await run_in_threadpool(state.services.wellbeing.save, signed.user, wanted)
    return RedirectResponse("/ui/review/preferences", status_code=303)
