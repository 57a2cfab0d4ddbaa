"""The worker's HTTP protocol (httptools): request heads bounded in size and in time."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from safeguard.cli import serving
from safeguard.cli.serving import MAX_HEAD_BYTES, HeaderDeadlineProtocol


class FakeTransport:
    """What the protocol writes, and whether it closed the connection."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("192.0.2.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, _protocol: Any) -> None:
        pass


async def _echo_length(scope: Any, receive: Any, send: Any) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _connected(head_timeout: float = 10.0) -> tuple[HeaderDeadlineProtocol, FakeTransport]:
    config = uvicorn.Config(_echo_length, http=HeaderDeadlineProtocol, log_level="warning")
    protocol = HeaderDeadlineProtocol(config=config, server_state=ServerState(), app_state={})
    protocol.head_timeout = head_timeout
    transport = FakeTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, transport


def test_the_worker_config_uses_this_protocol() -> None:
    config = serving.server_config("warning")
    assert config.http is HeaderDeadlineProtocol
    assert config.access_log is False


def test_an_oversized_head_is_refused_and_the_connection_closed() -> None:
    asyncio.run(_an_oversized_head_is_refused_and_the_connection_closed())


async def _an_oversized_head_is_refused_and_the_connection_closed() -> None:
    protocol, transport = _connected()
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")
    for _ in range(MAX_HEAD_BYTES // 1000 + 1):
        protocol.data_received(b"X-Pad: " + b"a" * 1000 + b"\r\n")
        if transport.closed:
            break
    assert transport.closed
    assert transport.written.startswith(b"HTTP/1.1 400 ")
    protocol.connection_lost(None)


def test_a_large_body_in_the_head_s_read_is_not_a_large_head() -> None:
    asyncio.run(_a_large_body_in_the_head_s_read_is_not_a_large_head())


async def _a_large_body_in_the_head_s_read_is_not_a_large_head() -> None:
    protocol, transport = _connected()
    body = b"b" * (4 * MAX_HEAD_BYTES)
    head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    protocol.data_received(head + body)  # one read: the head and the whole body
    for _ in range(20):
        await asyncio.sleep(0)
    assert transport.written.startswith(b"HTTP/1.1 200 ")
    assert transport.written.endswith(str(len(body)).encode())
    assert not transport.closed
    # Keep-alive: a second request's head is counted afresh.
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
    for _ in range(20):
        await asyncio.sleep(0)
    assert transport.written.endswith(b"2")
    protocol.connection_lost(None)


def test_a_connection_without_a_whole_head_is_closed_at_the_deadline() -> None:
    asyncio.run(_a_connection_without_a_whole_head_is_closed_at_the_deadline())


async def _a_connection_without_a_whole_head_is_closed_at_the_deadline() -> None:
    protocol, transport = _connected(head_timeout=0.05)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    await asyncio.sleep(0.2)
    assert transport.closed
    assert transport.written == b""
    protocol.connection_lost(None)
