"""Digest algorithms and normalised digest values."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum

from safeguard.domain.errors import InvalidDigestError


class HashAlgorithm(StrEnum):
    """Algorithms Safeguard knows by name. PhotoDNA is stored and exported, never computed."""

    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    PDQ = "pdq"
    PHOTODNA = "photodna"

    @property
    def is_cryptographic(self) -> bool:
        """True for exact-match digests."""
        return self in CRYPTOGRAPHIC_ALGORITHMS

    @property
    def is_perceptual(self) -> bool:
        """True for similarity hashes compared by distance."""
        return self in (HashAlgorithm.PDQ, HashAlgorithm.PHOTODNA)


CRYPTOGRAPHIC_ALGORITHMS: tuple[HashAlgorithm, ...] = (
    HashAlgorithm.MD5,
    HashAlgorithm.SHA1,
    HashAlgorithm.SHA256,
)

HEX_LENGTHS: dict[HashAlgorithm, int] = {
    HashAlgorithm.MD5: 32,
    HashAlgorithm.SHA1: 40,
    HashAlgorithm.SHA256: 64,
    HashAlgorithm.PDQ: 64,
}

PDQ_BITS = 256
_HEX = re.compile(r"^[0-9a-f]+$")


def normalise_digest(algorithm: HashAlgorithm, value: str) -> str:
    """Return `value` in Safeguard's canonical form for `algorithm`.

    Hex digests are stripped and lower-cased and must have the algorithm's length.
    PhotoDNA values are kept verbatim (stripped), since vendors encode them differently.

    Raises:
        InvalidDigestError: the value cannot be a digest of this algorithm.
    """
    text = value.strip()
    if algorithm is HashAlgorithm.PHOTODNA:
        if not text:
            raise InvalidDigestError("empty PhotoDNA value")
        return text
    text = text.lower()
    if text.startswith("0x"):
        text = text[2:]
    expected = HEX_LENGTHS[algorithm]
    if len(text) != expected or not _HEX.match(text):
        # The value itself stays out of the message: error text reaches logs.
        kind = "hex digits" if _HEX.match(text or "x") else "characters, not all hex"
        raise InvalidDigestError(
            f"{algorithm.value} needs {expected} hex digits, got {len(text)} {kind}"
        )
    return text


def photodna_spellings(value: str) -> tuple[str, ...]:
    """Every way a list may spell the PhotoDNA value `value`: as given, base64, hex.

    Lists keep PhotoDNA values verbatim, and vendors write the same 144 bytes as base64 or as
    upper- or lower-case hex; matching an equal value looks all of these up. A value that
    is neither base64 nor hex is looked up as given only.
    """
    text = value.strip()
    raw: bytes | None = None
    if len(text) % 2 == 0 and _HEX.match(text.lower()):
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if not raw:
        return (text,)
    spellings = [text, base64.b64encode(raw).decode("ascii"), raw.hex(), raw.hex().upper()]
    return tuple(dict.fromkeys(spellings))


def guess_algorithm(value: str) -> HashAlgorithm | None:
    """Guess the algorithm of a bare hex digest from its length; None when ambiguous or unknown.

    A 64-digit value may be SHA-256 or PDQ; callers that know better must say so.
    """
    text = value.strip().lower()
    if not _HEX.match(text or "x"):
        return None
    by_length = {32: HashAlgorithm.MD5, 40: HashAlgorithm.SHA1}
    return by_length.get(len(text))


@dataclass(frozen=True, slots=True)
class Digest:
    """One digest value with its algorithm, always in canonical form."""

    algorithm: HashAlgorithm
    value: str

    @classmethod
    def parse(cls, algorithm: HashAlgorithm | str, value: str) -> Digest:
        """Build a digest from untrusted text, normalising it.

        Raises:
            InvalidDigestError: unknown algorithm or malformed value.
        """
        try:
            algo = HashAlgorithm(str(algorithm).lower())
        except ValueError as exc:
            raise InvalidDigestError(f"unknown hash algorithm {algorithm!r}") from exc
        return cls(algo, normalise_digest(algo, value))

    def __str__(self) -> str:
        return f"{self.algorithm.value}:{self.value}"


def hamming_distance(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two equal-length hex strings (PDQ distance)."""
    if len(a_hex) != len(b_hex):
        raise InvalidDigestError("hamming distance needs equal-length hashes")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()
