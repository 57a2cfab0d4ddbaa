"""Typed identifiers of a person or account, normalised so equal things compare equal.

Each identifier has a kind, a normalised value, and for accounts the service it belongs to
(a screen name means nothing without its service). IP addresses carry the time they were
seen and the source port: behind carrier-grade NAT many people share one address at once,
told apart only by port, and one person's address changes over time.

Phone numbers must already be in E.164 (``+447700900123``); turning national formats into
E.164 needs the numbering plan, which the intake capability holds (`intel_intake.phones`).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from safeguard.domain.errors import InputError


class IdentifierKind(StrEnum):
    """What an identifier is."""

    EMAIL = "email"
    PHONE = "phone"
    SCREEN_NAME = "screen_name"
    PLATFORM_USER_ID = "platform_user_id"
    IP_ADDRESS = "ip"
    DEVICE_ID = "device_id"
    POSTAL_ADDRESS = "postal_address"
    POSTCODE = "postcode"


ACCOUNT_KINDS = frozenset({IdentifierKind.SCREEN_NAME, IdentifierKind.PLATFORM_USER_ID})
"""Kinds whose value only means something together with the service."""

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_SPACES = re.compile(r"\s+")
_ADDRESS_PUNCTUATION = re.compile(r"[.,;:'\"()]+")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def normalise_email(value: str) -> str:
    """Lower-cased, trimmed address (sub-addressing kept: ``a+b@x`` is not ``a@x``).

    Raises:
        InputError: not an address.
    """
    text = _clean(value).lower()
    if not _EMAIL.match(text):
        raise InputError(f"not an email address: {value!r}")
    return text


def normalise_phone(value: str) -> str:
    """An E.164 number as given, with spaces and dashes removed.

    Raises:
        InputError: not in E.164.
    """
    text = re.sub(r"[\s\-()]", "", value)
    if not _E164.match(text):
        raise InputError(f"phone number not in E.164 form (+<country><number>): {value!r}")
    return text


def normalise_ip(value: str) -> str:
    """The address in its canonical text form (IPv6 compressed, IPv4-mapped unwrapped).

    Raises:
        InputError: not an IP address.
    """
    try:
        address = ipaddress.ip_address(_clean(value).strip("[]"))
    except ValueError as exc:
        raise InputError(f"not an IP address: {value!r}") from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def normalise_postcode(value: str) -> str:
    """A UK postcode upper-cased with one space before the inward code (``SW1A 1AA``).

    Values that are not UK postcodes are kept upper-cased with spaces collapsed, so
    foreign postal codes still compare equal to themselves.

    Raises:
        InputError: empty.
    """
    compact = _clean(value).upper().replace(" ", "")
    if not compact:
        raise InputError("empty postcode")
    found = _UK_POSTCODE.match(compact)
    return f"{found.group(1)} {found.group(2)}" if found else _clean(value).upper()


def normalise_address(value: str) -> str:
    """An address case-folded, with punctuation dropped and whitespace collapsed."""
    text = _clean(_ADDRESS_PUNCTUATION.sub(" ", _clean(value).casefold()))
    if not text:
        raise InputError("empty postal address")
    return text


def normalise_screen_name(value: str) -> str:
    """A screen name case-folded, without a leading ``@``."""
    text = _clean(value).lstrip("@").casefold()
    if not text:
        raise InputError("empty screen name")
    return text


def normalise_device_id(value: str) -> str:
    """A device id upper-cased with separators (spaces, dashes, colons) removed."""
    text = re.sub(r"[\s\-:.]", "", _clean(value)).upper()
    if not text:
        raise InputError("empty device id")
    return text


def normalise_service(value: str) -> str:
    """A service name case-folded and trimmed (``Example Chat`` -> ``example chat``)."""
    return _clean(value).casefold()


_NORMALISERS = {
    IdentifierKind.EMAIL: normalise_email,
    IdentifierKind.PHONE: normalise_phone,
    IdentifierKind.SCREEN_NAME: normalise_screen_name,
    IdentifierKind.PLATFORM_USER_ID: lambda v: _clean(v),
    IdentifierKind.IP_ADDRESS: normalise_ip,
    IdentifierKind.DEVICE_ID: normalise_device_id,
    IdentifierKind.POSTAL_ADDRESS: normalise_address,
    IdentifierKind.POSTCODE: normalise_postcode,
}


@dataclass(frozen=True, slots=True)
class Identifier:
    """One normalised identifier, as seen in one referral.

    Build with `Identifier.of`, which normalises; the constructor trusts its input (stores
    use it to rebuild stored values).

    Attributes:
        kind: what it is.
        value: the normalised value.
        service: for screen names and platform ids, the service (case-folded); else "".
        observed_at: when it was seen (IP capture time, device event time), if known.
        port: for IP addresses, the source port, if the report gives one.
        detail: free text from the source (an IP event name, a device id type).
    """

    kind: IdentifierKind
    value: str
    service: str = ""
    observed_at: datetime | None = None
    port: int | None = None
    detail: str = ""

    @classmethod
    def of(
        cls,
        kind: IdentifierKind | str,
        value: str,
        *,
        service: str = "",
        observed_at: datetime | None = None,
        port: int | None = None,
        detail: str = "",
    ) -> Identifier:
        """A normalised identifier.

        Raises:
            InputError: the value does not fit its kind, an account kind lacks its service,
                a time lacks a timezone or a port is out of range.
        """
        kind = IdentifierKind(kind)
        if not value or not value.strip():
            raise InputError(f"empty {kind.value}")
        normalised = _NORMALISERS[kind](value)
        service = normalise_service(service) if service else ""
        if kind in ACCOUNT_KINDS and not service:
            raise InputError(f"a {kind.value} needs the service it belongs to")
        if observed_at is not None and observed_at.utcoffset() is None:
            raise InputError(f"time of {kind.value} {normalised!r} has no timezone")
        if port is not None and not 0 <= port <= 65535:
            raise InputError(f"port {port} out of range")
        return cls(kind, normalised, service, observed_at, port, _clean(detail))

    @property
    def key(self) -> str:
        """What two identifiers must share to be the same thing: kind, service and value."""
        if self.service:
            return f"{self.kind.value}:{self.service}:{self.value}"
        return f"{self.kind.value}:{self.value}"

    def describe(self) -> str:
        """The identifier for people (times and ports included)."""
        text = f"{self.kind.value} {self.value}"
        if self.service:
            text += f" on {self.service}"
        if self.port is not None:
            text += f" port {self.port}"
        if self.observed_at is not None:
            text += f" at {self.observed_at.isoformat()}"
        return text
