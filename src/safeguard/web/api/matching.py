"""``/v1/hash`` and ``/v1/match``: hash uploads, match uploads or hashes, one or many."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from safeguard.domain.errors import InputError
from safeguard.domain.service import ApiKey, Scope, UploadContext
from safeguard.hashing.contract import PixelBudget
from safeguard.services.platform.upload_matching import ItemResult
from safeguard.web.auth import SECURITY_REQUIREMENTS, key_with_scope, require
from safeguard.web.match_schemas import (
    MAX_BATCH_ITEMS,
    BatchHashItemOut,
    BatchHashQuery,
    BatchHashResponse,
    BatchItemOut,
    BatchMatchResponse,
    HashQuery,
    HashRecord,
    MatchResponse,
    UploadContextIn,
)
from safeguard.web.state import AppState, app_state
from safeguard.web.uploads import parse_multipart

router = APIRouter(prefix="/v1", tags=["matching"])

Matcher = Annotated[ApiKey, Depends(require(Scope.MATCH))]
State = Annotated[AppState, Depends(app_state)]

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI query parameters for the fields of `model`, for a route that reads them by hand."""
    parameters: list[dict[str, Any]] = []
    for name, field in model.model_json_schema()["properties"].items():
        parameter = {
            "in": "query",
            "name": name,
            "required": False,
            "schema": {k: v for k, v in field.items() if k != "default"},
        }
        if "description" in field:
            parameter["description"] = field["description"]
        parameters.append(parameter)
    return parameters


def _upload_context(request: Request) -> UploadContext:
    """The upload's context from the query string (read only for uploads, not for JSON).

    Raises:
        RequestValidationError: a value does not fit (422, as FastAPI answers).
    """
    try:
        return UploadContextIn.model_validate(dict(request.query_params)).context()
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


_MATCH_BODY: dict[str, Any] = {
    # The context is read by hand, so that a JSON query (the hot path) does not pay for
    # parsing a query-string model it never uses; it is documented here instead.
    "parameters": _query_parameters(UploadContextIn),
    "requestBody": {
        "required": True,
        "content": {
            **_UPLOAD_BODY["requestBody"]["content"],
            "application/json": {"schema": {"$ref": "#/components/schemas/HashQuery"}},
        },
    },
}
_MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/BatchHashQuery"}},
        },
    }
}


def _media_type(request: Request) -> str:
    # Media types are case-insensitive (RFC 9110, 8.3.1).
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(request: Request) -> bool:
    kind = _media_type(request)
    return kind in ("application/json", "text/json") or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _is_multipart(request: Request) -> bool:
    return _media_type(request) == "multipart/form-data"


def _json_model(body: bytes, model: Any) -> Any:
    try:
        return model.model_validate(json.loads(body or b"null"))
    except RecursionError as exc:
        raise HTTPException(422, "the JSON body is nested too deeply") from exc
    except (ValueError, ValidationError) as exc:
        raise HTTPException(422, f"the JSON body is not valid: {exc}") from exc


async def _cancellable(request: Request, function: Callable[..., Any], *args: Any) -> Any:
    """Run `function(*args, cancel=event)` in a thread; the event is set if the client leaves."""
    return await _cancellable_with(request, threading.Event(), partial(function, *args))


async def _cancellable_with(
    request: Request, cancel: threading.Event, function: Callable[..., Any]
) -> Any:
    """Run `function(cancel=cancel)` in a thread, setting `cancel` if the client leaves."""

    async def watch() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                cancel.set()
                return

    watcher = asyncio.ensure_future(watch())
    try:
        return await run_in_threadpool(partial(function, cancel=cancel))
    finally:
        watcher.cancel()


BATCH_FIELD = "files"
"""The multipart field a batch call's files come in (``-F files=@a.jpg -F files=@b.jpg``)."""


async def _files(
    request: Request, body: bytes, *, field: str | None = None
) -> list[tuple[str, bytes]]:
    """The file parts of a multipart body; with `field`, every file part must use that name."""
    content_type = request.headers.get("content-type", "")
    try:
        # Parsing megabytes is CPU work: off the event loop, so health checks still answer.
        parts = await run_in_threadpool(parse_multipart, body, content_type)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if field is not None:
        others = sorted({name for name, file_name, _ in parts if file_name is not None} - {field})
        if others:
            raise HTTPException(
                422,
                f"send the files in the multipart field {field!r}; got {', '.join(map(repr, others))}",
            )
    files = [(name, content) for _, name, content in parts if name is not None]
    if not files:
        raise HTTPException(422, "the multipart body has no files")
    if len(files) > MAX_BATCH_ITEMS:
        raise HTTPException(413, f"at most {MAX_BATCH_ITEMS} items per call")
    return files


def _record(state: AppState, result: ItemResult) -> MatchResponse:
    state.metrics.observe_item(result.verdict.value)
    state.metrics.observe_matches(m.list_name for m in result.matches)
    return MatchResponse.of(result)


@router.post(
    "/hash",
    response_model=HashRecord,
    summary="Hash an upload (the body is the file)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                **_UPLOAD_BODY["requestBody"]["content"],
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
    responses={413: {"description": "Too large"}, 422: {"description": "Not decodable"}},
)
async def hash_upload(request: Request, key: Matcher, state: State) -> HashRecord:
    """MD5, SHA-1, SHA-256 and PDQ (with quality) of the uploaded file; nothing is kept.

    Send the file as the body, or as the one file of a multipart form (``curl -F
    photo=@x.jpg``): the file part is hashed, never the multipart envelope.
    """
    data = await request.body()
    name = "upload"
    if _is_multipart(request):
        files = await _files(request, data)
        if len(files) != 1:
            raise HTTPException(422, "send one file here; use /v1/hash/batch for several")
        name, data = files[0]
    service = state.services.upload_matching
    hashes = await _cancellable(request, service.hash_upload, data, name, None)
    return HashRecord.of(hashes)


@router.post(
    "/hash/batch",
    response_model=BatchHashResponse,
    summary="Hash many uploads (multipart, field `files`)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": _MULTIPART_BODY["requestBody"]["content"][
                    "multipart/form-data"
                ]
            },
        }
    },
)
async def hash_batch(request: Request, key: Matcher, state: State) -> BatchHashResponse:
    """Hash each file; a file that cannot be hashed gets an error, the others go on."""
    files = await _files(request, await request.body(), field=BATCH_FIELD)
    service = state.services.upload_matching
    budget = PixelBudget(state.services.settings.batch_max_pixels)

    def run(cancel: threading.Event) -> list[BatchHashItemOut]:
        out = []
        for index, (name, content) in enumerate(files):
            try:
                hashes = HashRecord.of(
                    service.hash_upload(content, name or "upload", budget, cancel)
                )
                out.append(BatchHashItemOut(index=index, name=name, hashes=hashes))
            except InputError as exc:
                out.append(BatchHashItemOut(index=index, name=name, error=str(exc)))
        return out

    return BatchHashResponse(items=await _cancellable(request, run))


class RequestOnlyRoute(APIRoute):
    """A route whose endpoint takes the `Request` and returns a `Response` all by itself.

    It is documented from its declaration as any route is (body, responses, security), but
    served by the endpoint alone: no per-request parameter resolution, response validation
    or serialisation by FastAPI, which for ``/v1/match`` by hash cost more CPU than the
    lookup. For endpoints of signature ``(request: Request) -> Response`` only.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The endpoint itself."""
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


async def match(request: Request) -> Response:
    """Known or not, and what to do: matches with list, category, distance, quality, provenance.

    Send the file as the body (any content type but JSON; a one-file multipart form as
    ``curl -F file=@x.jpg`` sends is accepted too), with the upload's context in the query
    string; or send `HashQuery` JSON with hashes computed by the platform.
    """
    # The hot path: the key is checked and the answer serialised here rather than by
    # FastAPI's dependency resolution and response validation, which together cost more
    # CPU than the lookup (benchmarks/service/bench_hot_path.py).
    await key_with_scope(request, Scope.MATCH)
    state = await app_state(request)
    body = await request.body()
    service = state.services.upload_matching
    if _is_json(request):
        query: HashQuery = _json_model(body, HashQuery)
        # Hashes that match nothing (or only lists that just block) are answered here,
        # on the event loop, without a thread hop; their records are written in batches.
        found = service.match_hashes_at_once(query.digests(), query.pdq_quality, query.context())
        if found is not None:
            return _json_response(_record(state, found))
        result = await run_in_threadpool(
            service.match_hashes, query.digests(), query.pdq_quality, query.context()
        )
    else:
        upload = _upload_context(request)
        if _is_multipart(request):
            files = await _files(request, body)
            if len(files) != 1:
                raise HTTPException(422, "send one file here; use /v1/match/batch for several")
            name, body = files[0]
            upload = replace(upload, file_name=upload.file_name or name)
        result = await _cancellable(request, service.match_upload, body, upload, None)
    return _json_response(_record(state, result))


def add_match_route(app_router: APIRouter) -> None:
    """Add ``POST /v1/match`` to the app's own router, ahead of the included ones.

    Routes of an included router are found through that router (two more route matches
    per request, a measurable share of a ``/v1/match`` by hash); the app's own routes are
    tried first. It is documented with the other matching routes.
    """
    app_router.add_api_route(
        f"{router.prefix}/match",
        match,
        methods=["POST"],
        tags=list(router.tags),
        response_model=MatchResponse,
        summary="Match an upload (file body) or hashes (JSON body)",
        openapi_extra={**_MATCH_BODY, "security": SECURITY_REQUIREMENTS},
        responses={413: {"description": "Too large"}, 422: {"description": "Not decodable"}},
        route_class_override=RequestOnlyRoute,
    )


def _json_response(answer: BaseModel) -> Response:
    """`answer` as JSON, as FastAPI would serialise it for its declared response model."""
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post(
    "/match/batch",
    response_model=BatchMatchResponse,
    summary="Match many uploads (multipart, field `files`) or hash queries (JSON)",
    openapi_extra=_MULTIPART_BODY,
)
async def match_batch(request: Request, key: Matcher, state: State) -> BatchMatchResponse:
    """Each item is answered on its own; a bad item gets an error and the others go on."""
    body = await request.body()
    service = state.services.upload_matching
    calls: list[tuple[str | None, Callable[[], ItemResult]]] = []
    cancel = threading.Event()
    budget = PixelBudget(state.services.settings.batch_max_pixels)
    if _is_json(request):
        batch: BatchHashQuery = _json_model(body, BatchHashQuery)
        # One index search and one write for the whole batch.
        answers = await run_in_threadpool(
            service.match_hashes_many,
            [(query.digests(), query.pdq_quality, query.context()) for query in batch.items],
        )
        return _batch_response(state, [q.file_name for q in batch.items], answers)
    else:
        for name, content in await _files(request, body, field=BATCH_FIELD):
            item = partial(
                service.match_upload, content, UploadContext(file_name=name), budget, cancel
            )
            calls.append((name, item))

    def run_all(cancel: threading.Event) -> list[ItemResult | InputError]:
        del cancel  # the items share the outer event, set by the same watcher
        return service.match_many([call for _, call in calls])

    results = await _cancellable_with(request, cancel, run_all)
    return _batch_response(state, [label for label, _ in calls], results)


def _batch_response(
    state: AppState, labels: list[str | None], results: list[ItemResult | InputError]
) -> BatchMatchResponse:
    items = []
    for index, (label, result) in enumerate(zip(labels, results, strict=True)):
        if isinstance(result, InputError):
            items.append(BatchItemOut(index=index, name=label, error=str(result)))
        else:
            items.append(BatchItemOut(index=index, name=label, result=_record(state, result)))
    return BatchMatchResponse(items=items)
