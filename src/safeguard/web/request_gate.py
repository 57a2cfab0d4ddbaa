"""The first thing every request meets: cheap refusals before any body is read or parsed.

`RequestGate` is ASGI middleware, outermost in the app. In order, for each HTTP request:

1. **Methods.** Only the methods the API uses (and HEAD/OPTIONS) pass; others get 405, so
   nothing downstream (metrics labels included) ever sees an attacker's method name.
2. **NUL characters** in the path or query string get 422 (PostgreSQL cannot store them,
   and no identifier or context field legitimately holds one).
3. **Clients without credentials** are charged to their address's rate limit
   (`safeguard.web.client_limits`); over it they get 429 with ``Retry-After``.
4. **Body size.** A body over ``max_body_bytes`` gets 413. A request carrying no credentials
   (no ``Authorization``, no ``X-API-Key``, no session cookie) may send at most
   ``unauthenticated_body_bytes`` (a few KB), a signed-in page form at most
   `FORM_BODY_BYTES`: larger ones get 413 without their
   body being read, so an anonymous client cannot make a worker read or parse megabytes.
5. **Bodies in flight.** Each request reserves its declared length (or what it has sent so
   far, for chunked bodies) from a per-process budget of ``bodies_in_flight_bytes``; a
   request that would go over gets 503 with ``Retry-After`` rather than the worker taking
   ever more memory. The reservation is released when the response is finished.
6. **Security headers** go on every response: a strict Content-Security-Policy, frame
   refusal (``X-Frame-Options: DENY`` and ``frame-ancestors 'none'``), ``nosniff``,
   ``Referrer-Policy: no-referrer``, and ``Cache-Control: no-store`` on the review pages.
"""

from __future__ import annotations

import io
import json
import threading

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safeguard.web.client_limits import REFUSAL, ClientLimits, retry_after

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

SESSION_COOKIE = "safeguard_session"
"""The sign-in session cookie (`safeguard.web.people.SESSION_COOKIE`)."""

FORM_BODY_BYTES = 64 * 1024
"""Largest body a signed-in person's page form may send (`safeguard.web.people`'s limit)."""

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
        b"img-src 'self' data: https://fastapi.tiangolo.com; "
        b"script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
"""The ``/docs`` page loads Swagger UI from jsDelivr, hence that one script source."""


class BodyTooLargeError(Exception):
    """The request body is larger than the service accepts."""


class BodyBudget:
    """Bytes of request bodies held by this process, with a ceiling (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held = 0
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        """Bytes reserved now."""
        return self._held

    def reserve(self, amount: int) -> bool:
        """Reserve `amount` bytes; False (nothing reserved) when that would pass the ceiling."""
        with self._lock:
            if amount > 0 and self._held + amount > self.limit:
                return False
            self._held += amount
            return True

    def release(self, amount: int) -> None:
        """Give back `amount` reserved bytes."""
        with self._lock:
            self._held = max(0, self._held - amount)


def _has_credentials(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name in (b"authorization", b"x-api-key") and value.strip():
            return True
        if name == b"cookie" and SESSION_COOKIE.encode() in value:
            return True
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return None
    return None


class RequestGate:
    """See the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        unauthenticated_body_bytes: int,
        bodies_in_flight_bytes: int,
        client_limits: ClientLimits | None = None,
    ) -> None:
        self._app = app
        self._client_limits = client_limits
        self._max_body = max_body_bytes
        self._anonymous_body = unauthenticated_body_bytes
        self.budget = BodyBudget(bodies_in_flight_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        send = _with_security_headers(scope, send)
        if scope["method"] not in ALLOWED_METHODS:
            await _refuse(scope, receive, send, 405, "method not allowed")
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "replace")
        query = scope.get("query_string", b"")
        if b"\x00" in raw_path or b"\x00" in query or b"%00" in raw_path.lower() + query.lower():
            await _refuse(scope, receive, send, 422, "NUL characters are not accepted")
            return
        anonymous = not _has_credentials(scope)
        if anonymous and self._client_limits is not None:
            wait = await self._client_limits.charge(scope)
            if wait > 0:
                await _refuse(scope, receive, send, 429, REFUSAL, retry_after(wait))
                return
        if anonymous:
            limit = min(self._max_body, self._anonymous_body)
        elif str(scope.get("path", "")).startswith("/ui"):
            limit = min(self._max_body, FORM_BODY_BYTES)  # pages post small forms only
        else:
            limit = self._max_body
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, 413, _too_large(limit, anonymous))
            return
        reserved = declared or 0
        if not self.budget.reserve(reserved):
            await _refuse(
                scope, receive, send, 503, "too many request bodies in flight; retry shortly", 2
            )
            return
        seen = 0
        refusal: str | None = None

        def account(message: Message) -> None:
            nonlocal seen, reserved, refusal
            seen += len(message.get("body", b""))
            if seen > limit:
                refusal = _too_large(limit, anonymous)
            elif seen > reserved and not self.budget.reserve(seen - reserved):
                refusal = "too many request bodies in flight; retry shortly"
            else:
                reserved = max(reserved, seen)
            if refusal is not None:
                raise BodyTooLargeError(refusal)

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] != "http.request":
                return message
            account(message)
            if not message.get("more_body", False):
                return message
            # The rest of the body is gathered here and handed on as one message: a
            # BytesIO grows in place and gives up its buffer without a copy, where the
            # app's join of 64 KiB chunks would hold a large body twice for a moment.
            gathered = io.BytesIO()
            gathered.write(message.get("body", b""))
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return message  # the client left; the body is dropped with it
                account(message)
                gathered.write(message.get("body", b""))
                if not message.get("more_body", False):
                    return {"type": "http.request", "body": gathered.getvalue(), "more_body": False}

        async def refusing_send(message: Message) -> None:
            # Once the body was cut off, whatever the app answers (a route that parses the
            # body itself says 400) becomes the 413 that explains why.
            if refusal is None:
                await send(message)
            elif message["type"] == "http.response.start":
                body = json.dumps({"detail": refusal}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})

        try:
            await self._app(scope, limited_receive, refusing_send)
        finally:
            self.budget.release(reserved)


def _too_large(limit: int, anonymous: bool) -> str:
    if anonymous:
        return f"requests without credentials may send at most {limit} bytes"
    return f"the body is larger than {limit} bytes"


def _with_security_headers(scope: Scope, send: Send) -> Send:
    review_page = str(scope.get("path", "")).startswith("/ui")

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS:
                if name.decode() not in headers:
                    headers.append(name.decode(), value.decode())
            if review_page:
                headers["cache-control"] = "no-store"
        await send(message)

    return wrapped


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, retry: int | str = 0
) -> None:
    headers = {"Retry-After": str(retry)} if retry else None
    # The connection is closed after a refusal with an unread body, so the client cannot
    # make the server read it anyway.
    response = JSONResponse({"detail": detail}, status_code=status, headers=headers)
    if status in (413, 429, 503):
        response.headers["Connection"] = "close"
    await response(scope, receive, send)
