"""The default webhook sender: one POST to an address checked just before connecting.

The URL is checked again at delivery time by `WebhookPolicy.resolve_checked` (the list's
URL may have been set before the rules existed, or its name may now resolve elsewhere),
and the connection goes to that checked address while the request still names the host
(``Host`` header, TLS server name and certificate check), so the name cannot be
re-resolved to an internal address in between. Redirects are never followed: a redirect
would re-send (or drop) a signed body somewhere not configured.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping

from safeguard.services.platform.webhook_urls import WebhookPolicy

MAX_RESPONSE_BYTES = 64 * 1024


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHttps(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


class CheckedSender:
    """A `WebhookSender` that enforces `policy` at delivery time."""

    def __init__(self, policy: WebhookPolicy | None = None) -> None:
        self._policy = policy or WebhookPolicy()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST `body` to `url`; the HTTP status.

        Raises:
            ConfigurationError: the destination is not allowed (now).
            OSError: no answer came.
        """
        parts, address = self._policy.resolve_checked(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connection_type = _PinnedHttps if parts.scheme == "https" else _PinnedHttp
        connection = connection_type(host, port, address, timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            return int(response.status)
        except http.client.HTTPException as exc:
            raise OSError(f"bad HTTP answer: {type(exc).__name__}") from exc
        finally:
            connection.close()
