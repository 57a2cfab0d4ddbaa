"""``/healthz`` (alive), ``/readyz`` (index loaded and fresh) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import hmac
import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from safeguard.domain.service import Scope
from safeguard.web.auth import KEY_LOOKUPS_PER_MINUTE, lookup_bucket, take_token
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
async def readyz(state: State) -> JSONResponse:
    """200 when the index is loaded and fresh and the store answers now; else 503 and why."""
    keeper = state.services.index_keeper
    try:
        if not keeper.loaded:
            await run_in_threadpool(keeper.ensure_fresh)
        else:
            # One small query: a store that has gone away makes the service unready at
            # once, not only after the index goes stale.
            await run_in_threadpool(state.services.hash_list_store.current_revision)
    except Exception as exc:  # the store may be down: not ready, and say why
        status = "index-not-loaded" if not keeper.loaded else "store-unavailable"
        return JSONResponse({"status": status, "reason": type(exc).__name__}, 503)
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


async def _scraper(request: Request, state: State) -> None:
    """Admits the configured metrics token, or an API key with the admin scope."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = token or request.headers.get("x-api-key", "")
    expected = state.services.settings.metrics_token
    if expected and token and hmac.compare_digest(token.encode(), expected.encode()):
        return
    if not token:
        raise HTTPException(401, "a metrics token or an admin key is required")
    found, key = state.key_cache.lookup(token)
    if not found:
        # Outside the per-address limit (scrapers), but guessed tokens share the per-worker
        # lookup budget of `safeguard.web.auth`, so they cannot cost a lookup each unbounded.
        if await take_token(state, lookup_bucket(), KEY_LOOKUPS_PER_MINUTE) > 0:
            raise HTTPException(429, "too many unknown keys; retry later")
        key = await run_in_threadpool(state.services.api_keys.authenticate, token)
        state.key_cache.remember(token, key)
    if key is None:
        raise HTTPException(401, "unknown metrics token or key")
    if not key.allows(Scope.ADMIN):
        raise HTTPException(403, "metrics need the metrics token or an admin key")


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics (metrics token or admin key)",
    dependencies=[Depends(_scraper)],
)
def metrics(state: State) -> PlainTextResponse:
    """Requests, latency histogram, matches per list, index size and age (this process).

    Send ``Authorization: Bearer <SAFEGUARD_METRICS_TOKEN>`` (or an admin key): list names
    and counts are not for anyone who can reach the port.
    """
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
        "safeguard_worker_pid": (
            "Process id of the worker answering (metrics are per worker).",
            float(os.getpid()),
        ),
        "safeguard_deferred_records": (
            "Uploads answered while the store failed, not yet recorded.",
            float(state.services.upload_matching.deferred_records),
        ),
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
