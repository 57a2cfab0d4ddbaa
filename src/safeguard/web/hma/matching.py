"""HMA 2.0's core, hasher and matcher routes: ``/status``, ``/h/hash``, ``/m/...``.

Shapes follow HMA's OpenAPI (``/m/lookup`` answers ``{bank: [{bank_content_id, distance}]}``,
keyed first by signal type when several are looked up; distances are strings, as HMA's
``pretty_str`` writes them; errors are ``{"message": ...}``). Every route here is read-only:
look-ups keep nothing, trigger no action and audit nothing (`UploadMatchingService.lookup`).
Safeguard never fetches a URL, so the ``url=`` forms are refused with the way to send the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from safeguard.domain.digests import HashAlgorithm, hamming_distance
from safeguard.domain.errors import InputError
from safeguard.domain.matches import Match
from safeguard.domain.service import Scope
from safeguard.web.hma.access import guard
from safeguard.web.hma.signals import (
    CONTENT_SIGNAL_TYPES,
    SIGNAL_TYPES,
    HmaError,
    algorithm_of,
    content_id,
    signal_value,
)
from safeguard.web.state import AppState, app_state
from safeguard.web.uploads import parse_multipart

State = Annotated[AppState, Depends(app_state)]
MatchesByBank = dict[str, list[dict[str, object]]]

NO_URLS = (
    "Safeguard does not fetch URLs; send the file as multipart/form-data (field photo or video)"
)


def status_router() -> APIRouter:
    """``/status`` and ``/status/live``, with HMA's texts (no key: they reveal nothing)."""
    router = APIRouter(tags=["hma"])

    @router.get("/status", response_class=PlainTextResponse, summary="HMA readiness")
    def status(request: Request) -> PlainTextResponse:
        """``I-AM-ALIVE``; 503 ``INDEX-NOT-LOADED`` or ``INDEX-STALE`` as HMA answers."""
        state: AppState = request.app.state.safeguard
        keeper = state.services.index_keeper
        if not keeper.loaded:
            return PlainTextResponse("INDEX-NOT-LOADED", 503)
        stale = keeper.staleness_seconds()
        if stale is None or stale > state.services.settings.index_max_stale_seconds:
            return PlainTextResponse("INDEX-STALE", 503)
        return PlainTextResponse("I-AM-ALIVE")

    @router.get("/status/live", response_class=PlainTextResponse, summary="HMA liveness")
    def live() -> PlainTextResponse:
        """``I-AM-ALIVE`` whenever the process answers."""
        return PlainTextResponse("I-AM-ALIVE")

    return router


async def hash_form(request: Request, state: AppState, types: str | None) -> dict[str, str]:
    """HMA's ``hash_media_from_form_data``: one file, its field naming the content type."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/"):
        raise HmaError(400, "Missing multipart/form-data file upload")
    try:
        parts = parse_multipart(await request.body(), content_type)
    except ValueError as exc:
        raise HmaError(400, str(exc)) from exc
    files = [(field, name, data) for field, name, data in parts if name is not None]
    if not files:
        raise HmaError(400, "Missing multipart/form-data file upload")
    if len(files) > 1:
        raise HmaError(400, "Only one file allowed per request")
    field, name, data = files[0]
    if field not in CONTENT_SIGNAL_TYPES:
        raise HmaError(400, f"no such content_type: '{field}'")
    wanted = _selected_types(field, types)
    try:
        hashes = await run_in_threadpool(
            state.services.upload_matching.hash_upload, data, name or "upload"
        )
    except InputError as exc:
        raise HmaError(400, str(exc)) from exc
    values = dict(hashes.digests)
    if hashes.pdq and hashes.pdq_fit_for_matching:
        values[HashAlgorithm.PDQ] = hashes.pdq
    answer = {t: values[SIGNAL_TYPES[t]] for t in wanted if SIGNAL_TYPES[t] in values}
    if not answer:
        raise HmaError(400, f"no {', '.join(wanted)} hash could be computed for this {field}")
    return answer


async def form_fields(request: Request) -> dict[str, str]:
    """The text (non-file) fields of a multipart form; empty for any other body."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/"):
        return {}
    try:
        parts = parse_multipart(await request.body(), content_type)
    except ValueError as exc:
        raise HmaError(400, str(exc)) from exc
    return {field: data.decode("utf-8", "replace") for field, name, data in parts if name is None}


def _selected_types(content_type: str, types: str | None) -> tuple[str, ...]:
    if types is None:
        return CONTENT_SIGNAL_TYPES[content_type]
    chosen = tuple(t.strip() for t in types.split(",") if t.strip())
    for name in chosen:
        algorithm_of(name)  # refuses the ones Safeguard lacks
    if not chosen:
        raise HmaError(400, "empty signal type selection")
    return chosen


def _grouped(matches: Sequence[Match], banks: set[str] | None) -> MatchesByBank:
    """HMA's ``{bank: [{bank_content_id, distance}]}``, each entry once."""
    grouped: MatchesByBank = {}
    seen: set[tuple[str, str]] = set()
    for match in matches:
        key = (match.list_name, match.entry_id)
        if key in seen or (banks is not None and match.list_name not in banks):
            continue
        seen.add(key)
        grouped.setdefault(match.list_name, []).append(
            {
                "bank_content_id": content_id(match.list_name, match.entry_id),
                "distance": str(match.distance),
            }
        )
    return grouped


def _banks(text: str | None) -> set[str] | None:
    return {b for b in text.split(",") if b} if text else None


async def _lookup(state: AppState, signal_type: str, signal: str) -> list[Match]:
    algorithm, value = signal_value(signal_type, signal)
    service = state.services.upload_matching
    return list(await run_in_threadpool(service.lookup, {algorithm: value}))


def matching_router(mode: str) -> APIRouter:
    """``/h/hash`` and ``/m/...`` guarded for `mode` (see `safeguard.web.hma.access`)."""
    router = APIRouter(tags=["hma"], dependencies=[Depends(guard(mode, Scope.MATCH))])

    @router.get("/h/hash", summary="HMA: hash content from a URL (refused)")
    def hash_url(url: str | None = None) -> dict[str, str]:
        """Safeguard never fetches URLs (no outbound traffic): always 400 with the way out."""
        raise HmaError(400, NO_URLS)

    @router.post("/h/hash", summary="HMA: hash an uploaded file")
    async def hash_post(request: Request, state: State, types: str | None = None) -> dict[str, str]:
        """``{signal_type: hash}`` for the one file of the form (field ``photo``/``video``)."""
        return await hash_form(request, state, types)

    @router.get("/m/raw_lookup", summary="HMA: look a hash up in the index")
    async def raw_lookup(
        state: State,
        signal_type: str | None = None,
        signal: str | None = None,
        banks: str | None = None,
        include_distance: bool = False,
    ) -> dict[str, list[object]]:
        """``{"matches": [content ids]}``, or with distances when ``include_distance``."""
        if not signal_type or not signal:
            raise HmaError(400, "signal and signal_type are required")
        grouped = _grouped(await _lookup(state, signal_type, signal), _banks(banks))
        found = [match for bank in grouped.values() for match in bank]
        if include_distance:
            return {"matches": list(found)}
        return {"matches": [match["bank_content_id"] for match in found]}

    @router.get("/m/lookup", summary="HMA: matches for a hash, grouped by bank")
    async def lookup_get(
        state: State,
        signal_type: str | None = None,
        signal: str | None = None,
        url: str | None = None,
        banks: str | None = None,
        seed: str | None = None,
        bypass_coinflip: bool = False,
    ) -> MatchesByBank:
        """``{bank: [{bank_content_id, distance}]}``; no side effect.

        Safeguard's lists are enabled or not, so HMA's coin flip (``seed``,
        ``bypass_coinflip``) changes nothing here.
        """
        if url:
            raise HmaError(400, NO_URLS)
        if not signal or not signal_type:
            raise HmaError(400, "Either url or both signal and signal_type are required")
        return _grouped(await _lookup(state, signal_type, signal), _banks(banks))

    @router.post("/m/lookup", summary="HMA: matches for an uploaded file")
    async def lookup_post(
        request: Request,
        state: State,
        banks: str | None = None,
        types: str | None = None,
        bypass_coinflip: bool = False,
    ) -> dict[str, MatchesByBank]:
        """``{signal_type: {bank: [...]}}`` for each hash of the uploaded file; no side effect."""
        hashes = await hash_form(request, state, types)
        wanted = _banks(banks)
        return {
            name: _grouped(await _lookup(state, name, value), wanted)
            for name, value in hashes.items()
        }

    @router.post("/m/compare", summary="HMA: distance between two hashes")
    async def compare(request: Request, state: State) -> dict[str, object]:
        """``{signal_type: [a, b]}`` in, ``{signal_type: [match, {"distance": d}]}`` out."""
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise HmaError(400, "Request input was not a dict") from exc
        if not isinstance(body, dict):
            raise HmaError(400, "Request input was not a dict")
        threshold = state.services.settings.pdq_threshold
        answer: dict[str, object] = {}
        for name, pair in body.items():
            if not isinstance(pair, list):
                raise HmaError(400, f"Comparison hashes for {name} was not a list")
            if len(pair) != 2:
                raise HmaError(400, "Comparison hash list length must be exactly 2")
            algorithm, left = signal_value(name, str(pair[0]))
            _, right = signal_value(name, str(pair[1]))
            if algorithm is HashAlgorithm.PDQ:
                distance = hamming_distance(left, right)
                answer[name] = [distance <= threshold, {"distance": distance}]
            else:
                answer[name] = [left == right, {"distance": 0 if left == right else 1}]
        return answer

    return router
