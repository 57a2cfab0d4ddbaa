"""``/healthz`` (alive), ``/readyz`` (index loaded and fresh) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from safeguard.web.state import AppState

router = APIRouter(tags=["operations"])


async def _state(request: Request) -> AppState:
    # Not `app_state`: probes must answer even when loading the index fails.
    state: AppState = request.app.state.safeguard
    return state


State = Annotated[AppState, Depends(_state)]


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    """The process answers; says nothing about the index (a restart would not help it)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness",
    responses={503: {"description": "Index not loaded, or not checked recently"}},
)
def readyz(state: State) -> JSONResponse:
    """200 once the index is loaded and was checked against the store recently; else 503."""
    keeper = state.services.index_keeper
    if not keeper.loaded:
        try:
            keeper.ensure_fresh()
        except Exception as exc:  # the store may be down: not ready, and say why
            return JSONResponse({"status": "index-not-loaded", "reason": type(exc).__name__}, 503)
    staleness = keeper.staleness_seconds()
    limit = state.services.settings.index_max_stale_seconds
    body = {
        "status": "ok",
        "revision": keeper.revision,
        "checked_seconds_ago": staleness,
        "lists": len(keeper.lists()),
    }
    if staleness is None or staleness > limit:
        return JSONResponse({**body, "status": "index-stale"}, 503)
    return JSONResponse(body)


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(state: State) -> PlainTextResponse:
    """Requests, latency histogram, matches per list, index size and age (this process)."""
    keeper = state.services.index_keeper
    lists = keeper.lists()
    now = datetime.now(UTC)
    refreshed = keeper.refreshed_at
    staleness = keeper.staleness_seconds()
    gauges = {
        "safeguard_index_entries": (
            "Entries in enabled lists.",
            float(sum(hl.entry_count for hl in lists.values() if hl.enabled)),
        ),
        "safeguard_index_lists": ("Lists known to the index.", float(len(lists))),
        "safeguard_index_revision": ("Store revision the index serves.", float(keeper.revision)),
        "safeguard_index_age_seconds": (
            "Seconds since the index last changed.",
            (now - refreshed).total_seconds() if refreshed else -1.0,
        ),
        "safeguard_index_staleness_seconds": (
            "Seconds since the store was last checked for changes.",
            staleness if staleness is not None else -1.0,
        ),
    }
    text = state.metrics.render(gauges)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
