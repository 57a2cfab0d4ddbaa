"""HMA's vocabulary in Safeguard's terms: signal types, bank content ids, error answers.

HMA 2.0 (Open Media Match) names hashes by threatexchange signal type and its bank content by
integer id; Safeguard names digests by algorithm and entries by the list's own (text) id. This
module maps one onto the other, and refuses clearly what Safeguard cannot do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import JSONResponse

from safeguard.domain.digests import HashAlgorithm, normalise_digest
from safeguard.domain.errors import InvalidDigestError

SIGNAL_TYPES: Mapping[str, HashAlgorithm] = {
    "pdq": HashAlgorithm.PDQ,
    "video_md5": HashAlgorithm.MD5,
    "video_sha256": HashAlgorithm.SHA256,
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA1,
    "sha256": HashAlgorithm.SHA256,
}
"""HMA signal type names Safeguard answers for, and the digest each one is."""

KEPT_NOT_COMPARED = frozenset({"photodna", "pdna"})
"""Signal types Safeguard stores as data but never computes or compares."""

CONTENT_SIGNAL_TYPES: Mapping[str, tuple[str, ...]] = {
    "photo": ("pdq",),
    "video": ("video_md5",),
}
"""What `/h/hash` computes per HMA content type (HMA 2.0's defaults: PDQ for photos, MD5 for
videos); ``types=`` may ask for any of `SIGNAL_TYPES` instead."""

SIGNAL_NAME: Mapping[HashAlgorithm, str] = {
    HashAlgorithm.PDQ: "pdq",
    HashAlgorithm.MD5: "video_md5",
    HashAlgorithm.SHA256: "video_sha256",
    HashAlgorithm.SHA1: "sha1",
}
"""The signal type name Safeguard reports a digest under."""

_SAFE_INTEGER = 2**53
"""Ids stay below this so every JSON client reads them exactly."""


class HmaError(Exception):
    """An error answered in HMA's shape: ``{"message": ...}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def hma_error_response(_request: Request, exc: Exception) -> JSONResponse:
    """The JSON answer for an `HmaError` (registered on the app with the HMA routes)."""
    assert isinstance(exc, HmaError)
    return JSONResponse({"message": exc.message}, status_code=exc.status)


def algorithm_of(signal_type: str) -> HashAlgorithm:
    """The digest an HMA signal type names.

    Raises:
        HmaError: 400 for a type Safeguard lacks, saying which it has.
    """
    key = signal_type.strip().lower()
    algorithm = SIGNAL_TYPES.get(key)
    if algorithm is not None:
        return algorithm
    known = ", ".join(SIGNAL_TYPES)
    if key in KEPT_NOT_COMPARED:
        raise HmaError(
            400,
            f"SignalType '{signal_type}' is kept as data but Safeguard neither computes nor "
            f"compares it; it matches {known}",
        )
    raise HmaError(400, f"No such SignalType '{signal_type}'; Safeguard matches {known}")


def signal_value(signal_type: str, value: str) -> tuple[HashAlgorithm, str]:
    """The algorithm and canonical value of a signal.

    Raises:
        HmaError: 400 for an unknown type or a malformed value.
    """
    algorithm = algorithm_of(signal_type)
    try:
        return algorithm, normalise_digest(algorithm, value)
    except InvalidDigestError as exc:
        raise HmaError(400, f"invalid signal: {exc}") from exc


def content_id(list_name: str, entry_id: str) -> int:
    """The integer HMA calls ``bank_content_id`` for an entry: stable, JSON-safe.

    An entry whose id is already a small whole number keeps it (entries added through the HMA
    routes get such ids); any other id is hashed with its list's name into 53 bits.
    """
    if entry_id.isdigit() and int(entry_id) < _SAFE_INTEGER:
        return int(entry_id)
    digest = hashlib.blake2b(f"{list_name}\0{entry_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % _SAFE_INTEGER
