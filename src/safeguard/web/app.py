"""The ASGI app: `create_app(services)` for tests and embedding, `create_app_from_env()` for uvicorn.

Logs name the route template, status and duration only: never hashes, keys, IP addresses
or query strings (which carry upload context).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeguard import __version__
from safeguard.batch.isolated_decoding import CancelledDecodeError, DecoderCrashedError
from safeguard.bootstrap import Services, build_services
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import (
    AccessDeniedError,
    ConfigurationError,
    InputError,
    ListFormatError,
    NotFoundError,
    OverloadedError,
    StorageError,
)
from safeguard.settings import load_settings
from safeguard.web import hma
from safeguard.web.api import health, intel, list_augmentation, lists, matching, packages, reports
from safeguard.web.docs_pages import install_docs
from safeguard.web.match_schemas import BatchHashQuery, HashQuery
from safeguard.web.metrics import MetricsMiddleware
from safeguard.web.people import SignInRequiredError
from safeguard.web.request_gate import BodyTooLargeError, RequestGate
from safeguard.web.state import AppState
from safeguard.web.ui import package_pages, pages, review, sign_in
from safeguard.web.ui.rendering import render

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Known-image matching for platforms: hash an upload, match it against hash lists, and act.

A perceptual (PDQ) match is intelligence, not proof: every match carries its list,
category, distance, threshold, query quality and provenance. The service never shows or
keeps content; it keeps hashes and upload metadata for retroactive matching and reports.

Authenticate with `Authorization: Bearer <token>` or `X-API-Key: <token>` (see
`safeguard keys create`). Scopes: `match`, `lists:write`, `reports:review`, `intel:read`,
`intel:write`, `admin`.
"""


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    # Domain errors become HTTP answers here, in one place.
    table: list[tuple[type[Exception], int]] = [
        (BodyTooLargeError, 413),
        (DecoderCrashedError, 422),
        (CancelledDecodeError, 499),
        (RecursionError, 422),
        (NotFoundError, 404),
        (StorageError, 409),
        (ListFormatError, 422),
        (InputError, 422),
        (ConfigurationError, 400),
        (AccessDeniedError, 403),
    ]
    for error_type, status in table:

        async def handler(_request: Request, exc: Exception, status: int = status) -> JSONResponse:
            return _problem(status, str(exc))

        app.add_exception_handler(error_type, handler)

    async def overloaded(_request: Request, exc: Exception) -> JSONResponse:
        retry = exc.retry_after if isinstance(exc, OverloadedError) else 1
        response = _problem(503, str(exc))
        response.headers["Retry-After"] = str(retry)
        return response

    app.add_exception_handler(OverloadedError, overloaded)

    async def sign_in_required(request: Request, _exc: Exception) -> Response:
        # Pages send people to the sign-in form and back; other routes answer 401.
        if request.url.path.startswith("/ui/"):
            return RedirectResponse(f"/ui/login?next={request.url.path}", status_code=303)
        return _problem(401, "sign-in required")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/ui/"):
            title = "Not found" if exc.status_code == 404 else "Not allowed"
            return render(request, "message.html", exc.status_code, title=title, message=exc.detail)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    app.add_exception_handler(SignInRequiredError, sign_in_required)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _install_openapi(app: FastAPI) -> None:
    # Bodies read by hand (a file or JSON on one route) are not FastAPI parameters, so
    # their JSON models are added to the schema's components here.
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (HashQuery, BatchHashQuery):
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(services: Services, *, background: bool = True) -> FastAPI:
    """The HTTP API over `services`.

    Args:
        services: the composition root (settings, stores, services).
        background: on startup, start the index poller, the webhook dispatcher and the
            retroactive job worker threads
            (tests that drive those by hand turn this off).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        keeper = services.index_keeper
        hasher = services.upload_hasher
        if background:
            start = getattr(hasher, "start", None)
            if start is not None:
                start()  # decode subprocesses import their decoders while the index loads
            keeper.ensure_fresh()
            # The first search loads the index's compiled kernels (seconds on a busy box):
            # here, rather than in the first request a worker answers.
            services.upload_matching.lookup({HashAlgorithm.PDQ: "0" * 64})
            keeper.start()
            services.webhook_dispatcher.start()
            services.upload_matching.start()
            services.seen_writer.start()
            services.retroactive_jobs.start_worker()
            if services.list_change_listener is not None:
                services.list_change_listener.start()
        try:
            yield
        finally:
            if background:
                if services.list_change_listener is not None:
                    services.list_change_listener.stop()
                services.seen_writer.stop()
                services.retroactive_jobs.stop_worker()
                keeper.stop()
                services.webhook_dispatcher.stop()
                services.upload_matching.stop()
            close = getattr(hasher, "close", None)
            if close is not None:
                close()

    app = FastAPI(
        title="Safeguard matching service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served from the package by `install_docs`: FastAPI's own pages need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    state = AppState(services)
    app.state.safeguard = state

    settings = services.settings
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    # Added last, so outermost: refusals happen before anything else runs.
    app.add_middleware(
        RequestGate,
        max_body_bytes=settings.max_upload_bytes,
        unauthenticated_body_bytes=settings.unauthenticated_body_bytes,
        bodies_in_flight_bytes=settings.bodies_in_flight_bytes,
        client_limits=state.client_limits,
    )
    _install_error_handlers(app)
    _install_openapi(app)
    # Routes are tried in order: ``/v1/match`` (the hot path) first, the docs pages last.
    matching.add_match_route(app.router)
    for module in (
        matching,
        lists,
        list_augmentation,
        reports,
        intel,
        health,
        packages,
        sign_in,
        pages,
        review,
        package_pages,
    ):
        app.include_router(module.router)
    install_docs(app)
    hma.install(app, services.settings.hma_api)
    return app


def create_app_from_env() -> FastAPI:
    """The app for ``SAFEGUARD_*`` settings (uvicorn ``--factory``; one per worker process)."""
    return create_app(build_services(load_settings()))
