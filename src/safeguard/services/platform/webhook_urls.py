"""Webhook destinations: validated and normalised when set, re-checked when delivered.

A webhook URL is chosen by whoever holds a ``lists:write`` key, and the service POSTs to
it from inside the platform's network, so it must not become a way to reach internal
services (server-side request forgery). Rules:

* ``http`` or ``https`` only (any letter case), a host, no user name or password (they
  would be stored and shown), no fragment; the host is lower-cased, a default port
  dropped, and an empty path becomes ``/``.
* The host's addresses (every one, after resolving the name; numeric hosts in any form
  Python's resolver accepts, e.g. ``2130706433``, are resolved too) must be public:
  loopback, private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
  multicast, reserved and unspecified addresses are refused, as are well-known metadata
  names. An operator may allow named hosts, addresses or networks
  (``SAFEGUARD_WEBHOOK_ALLOWED_HOSTS``), e.g. a receiver on the same private network.
* At delivery time the name is resolved again and checked again, and the connection goes
  to the very address that was checked (`resolve_checked`), so a name that changes to an
  internal address after it was set (DNS rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from safeguard.domain.errors import ConfigurationError

Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses`` as text; raises `OSError` when the name does not resolve."""

METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "localhost"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address `host` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """Which destinations webhooks may reach.

    Attributes:
        allowed: host names (lower case), addresses and networks allowed although internal.
        resolve: the name resolver (the system's; tests pass a fake).
    """

    allowed: tuple[str, ...] = ()
    resolve: Resolver = system_resolver

    @classmethod
    def from_setting(cls, text: str) -> WebhookPolicy:
        """From ``SAFEGUARD_WEBHOOK_ALLOWED_HOSTS`` (comma-separated)."""
        return cls(tuple(p.strip().lower() for p in text.split(",") if p.strip()))

    def normalise(self, url: str) -> str:
        """The URL in canonical form, after checking it (see the module docstring).

        Raises:
            ConfigurationError: the URL is malformed, carries credentials, or reaches an
                internal destination that is not allowed.
        """
        parts = _split(url)
        self._check_destination(parts)
        return _unsplit(parts)

    def resolve_checked(self, url: str) -> tuple[SplitResult, str]:
        """The URL's parts and one checked address to connect to (at delivery time).

        Raises:
            ConfigurationError: as `normalise`, or the name does not resolve.
        """
        parts = _split(url)
        addresses = self._check_destination(parts)
        return parts, addresses[0]

    def _check_destination(self, parts: SplitResult) -> list[str]:
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        if self._allowed_name(host):
            return list(self._resolve(host, port))
        if host in METADATA_NAMES or host.endswith((".internal", ".localhost", ".local")):
            raise ConfigurationError(f"webhooks may not reach the internal name {host!r}")
        addresses = list(self._resolve(host, port))
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if _internal(ip) and not self._allowed_address(ip):
                raise ConfigurationError(
                    "webhooks may not reach loopback, private, link-local or other internal "
                    "addresses (allow a receiver with SAFEGUARD_WEBHOOK_ALLOWED_HOSTS)"
                )
        return addresses

    def _resolve(self, host: str, port: int) -> Sequence[str]:
        try:
            addresses = self.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise ConfigurationError(f"the webhook host {host!r} does not resolve") from exc
        if not addresses:
            raise ConfigurationError(f"the webhook host {host!r} does not resolve")
        return addresses

    def _allowed_name(self, host: str) -> bool:
        return host in self.allowed

    def _allowed_address(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        for item in self.allowed:
            try:
                if ip in ipaddress.ip_network(item, strict=False):
                    return True
            except ValueError:
                continue
        return False


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _internal(ip.ipv4_mapped)
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)
    )


def _split(url: str) -> SplitResult:
    text = url.strip()
    if any(ord(c) < 0x21 or c == "\x7f" for c in text):
        raise ConfigurationError("the webhook URL may not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"the webhook URL is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigurationError("the webhook URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ConfigurationError(
            "the webhook URL may not carry a user name or password (use the signature)"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ConfigurationError("the webhook URL has no host")
    if parts.fragment:
        raise ConfigurationError("the webhook URL may not have a fragment")
    host_text = f"[{host}]" if ":" in host else host
    netloc = host_text if port in (None, _DEFAULT_PORTS[scheme]) else f"{host_text}:{port}"
    return SplitResult(scheme, netloc, parts.path or "/", parts.query, "")


def _unsplit(parts: SplitResult) -> str:
    return urlunsplit(parts)


def redact(urls: Iterable[str]) -> list[str]:
    """URLs without any credentials (for showing URLs stored before validation existed)."""
    shown = []
    for url in urls:
        try:
            parts = urlsplit(url)
            netloc = parts.netloc.rsplit("@", 1)[-1]
            shown.append(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))
        except ValueError:
            shown.append("(unparseable URL)")
    return shown
