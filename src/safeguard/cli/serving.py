"""Running the web app in several worker processes, each with its own listening socket.

The app is named by its import string (as uvicorn takes it), so the CLI never imports the
web package itself.

Why not uvicorn's own ``workers=N``: it binds one socket in the supervisor and lets every
worker accept from it, which (measured, issue 10) gave two defects:

* The socket is created as ``socket(AF_INET, SOCK_STREAM)`` (protocol 0), and asyncio only
  sets ``TCP_NODELAY`` on accepted sockets whose protocol is ``IPPROTO_TCP``; responses then
  go out as a header packet and a body packet, and the second waits for the client's
  delayed ACK: about 44 ms per keep-alive request.
* Whichever worker wakes first accepts every pending connection, so all of a client's
  keep-alive connections can land on one worker while the others idle.

Here each worker binds its own ``SO_REUSEPORT`` socket (created with ``IPPROTO_TCP`` and
``TCP_NODELAY``), so the kernel spreads connections across workers by their addresses.
Requests are parsed by httptools on uvloop (`HeaderDeadlineProtocol`), with the access log
off. The supervisor restarts a worker that dies; it sends no health pings, so a busy worker is
never killed for being slow (decoding runs in subprocesses anyway, see
`safeguard.batch.isolated_decoding`). A connection that has not sent a whole request head
within `HEADER_TIMEOUT_SECONDS` is closed (slow-header clients).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import socket
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

APP = "safeguard.web.app:create_app_from_env"
HEADER_TIMEOUT_SECONDS = 10.0
"""A new connection must send a complete request head within this time (the default of
``SAFEGUARD_HEADER_TIMEOUT_SECONDS``)."""
KEEP_ALIVE_SECONDS = 5
MAX_HEAD_BYTES = 16 * 1024
"""Largest request head (request line and headers) a connection may send; a longer one is
answered 400 and the connection closed."""


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounding request heads in time and size.

    httptools (llhttp, in C) parses a request several times cheaper than h11 (pure Python),
    which was about a third of the server's CPU per ``/v1/match`` by hash. It buffers heads
    without a limit, so the bytes of an unfinished head are counted here (within one read
    of slack); a connection that has not sent its first head within `head_timeout` is closed
    (slow-header clients).
    """

    _head_timer: asyncio.TimerHandle | None = None
    _head_open = True
    _head_bytes = 0
    head_timeout: float = HEADER_TIMEOUT_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the head deadline."""
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_overdue)

    def data_received(self, data: bytes) -> None:
        """Parse `data`, refusing a head that grows past `MAX_HEAD_BYTES`."""
        if self._head_open:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_open and self._head_bytes > MAX_HEAD_BYTES:
            self._head_open = False
            if self.transport.is_closing():
                return
            if self.cycle is None or self.cycle.response_complete:
                self.send_400_response("Request head too large.")
            else:  # a pipelined head while a response is under way: no answer fits
                self.transport.close()

    def on_headers_complete(self) -> None:
        """The head is whole: stop counting its bytes."""
        self._head_open = False
        self._head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The next bytes begin a new head."""
        super().on_message_complete()
        self._head_open = True

    def _head_overdue(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the head deadline."""
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)


def listening_socket(host: str, port: int, listen: bool = True) -> socket.socket:
    """A TCP socket on (host, port) with SO_REUSEPORT and TCP_NODELAY, listening if asked."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def server_config(log_level: str) -> uvicorn.Config:
    """The uvicorn config of one worker (the app by import string, its protocol and limits)."""
    return uvicorn.Config(
        APP,
        factory=True,
        # The access log would record client addresses; the app logs routes only.
        access_log=False,
        log_level=log_level,
        proxy_headers=False,
        http=HeaderDeadlineProtocol,
        # uvloop's event loop (the server extra installs it; asyncio's otherwise).
        loop="auto",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


def _worker(host: str, port: int, log_level: str) -> None:
    from safeguard.settings import load_settings

    HeaderDeadlineProtocol.head_timeout = float(load_settings().header_timeout_seconds)
    sock = listening_socket(host, port)
    server = uvicorn.Server(server_config(log_level))
    server.run(sockets=[sock])


def serve(host: str, port: int, workers: int, log_level: str = "warning") -> None:
    """Serve the app until SIGINT/SIGTERM with `workers` processes (see module docstring).

    Args:
        host: address to listen on.
        port: port (0 picks a free one, shared by all workers).
        workers: worker processes.
        log_level: uvicorn's log level.
    """
    # Bound, not listening: holds the port (and picks it when 0) without taking connections.
    holder = listening_socket(host, port, listen=False)
    port = int(holder.getsockname()[1])
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(
            target=_worker, args=(host, port, log_level), name="safeguard-worker"
        )
        process.start()
        return process

    processes = [start() for _ in range(max(1, workers))]
    restarts: list[float] = []
    try:
        while not stopping:
            time.sleep(0.25)
            for index, process in enumerate(processes):
                if stopping or process.is_alive():
                    continue
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < 60] + [now]
                if len(restarts) > 10 * len(processes):
                    logger.error("workers keep dying; stopping")
                    stopping = True
                    break
                logger.warning("worker %d exited (%s); starting another", index, process.exitcode)
                processes[index] = start()
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(2)
        holder.close()
