"""Request bodies held in memory only, with a size limit: uploads never touch the disk.

Starlette's own form parser spools large files to temporary files, which would put
uploaded content on disk unencrypted; multipart bodies are parsed here, in memory, instead.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(Exception):
    """The request body is larger than the service accepts."""


class BodyLimitMiddleware:
    """Refuses bodies over `max_bytes` with 413: at once from Content-Length, else as read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self._max_bytes:
                    response = JSONResponse(
                        {"detail": f"the body is larger than {self._max_bytes} bytes"}, 413
                    )
                    await response(scope, receive, send)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self._max_bytes:
                    raise BodyTooLargeError(f"the body is larger than {self._max_bytes} bytes")
            return message

        await self._app(scope, limited_receive, send)


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body as ``(field, file name, content)``.

    Raises:
        ValueError: the body is not multipart or has no boundary.
    """
    if not content_type.lower().startswith("multipart/"):
        raise ValueError("expected a multipart/form-data body")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(header + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise ValueError("the multipart body could not be parsed")
    parts: list[tuple[str, str | None, bytes]] = []
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        field = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        parts.append((str(field or ""), part.get_filename(), content))
    return parts
