"""Conversion between hex digest text and fixed-width byte arrays, vectorised for millions of rows.

Holding ten million digests as Python strings costs gigabytes; as a ``uint8[N, width]`` array
it costs ``N * width`` bytes. These functions are the only place the text form is parsed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.errors import InvalidDigestError

_INVALID = 255
_BLOCK = 1 << 20  # rows per vectorised step: bounds the temporary arrays to ~100 MB

_NIBBLES = np.full(256, _INVALID, dtype=np.uint8)
for _value, _char in enumerate("0123456789abcdef"):
    _NIBBLES[ord(_char)] = _value
    _NIBBLES[ord(_char.upper())] = _value


def bytes_from_hex(hex_values: Sequence[str], width: int) -> NDArray[np.uint8]:
    """Parse hex strings of exactly ``2 * width`` digits (either case) into ``uint8[N, width]``.

    Raises:
        InvalidDigestError: a value has the wrong length or a non-hex character; the message
            gives the value's position, never the value (hash values stay out of logs).
    """
    count = len(hex_values)
    out = np.empty((count, width), dtype=np.uint8)
    digits = 2 * width
    for start in range(0, count, _BLOCK):
        block = hex_values[start : start + _BLOCK]
        try:
            # One spare byte per row: a longer value leaves it non-zero instead of being cut.
            raw = np.array(block, dtype=f"S{digits + 1}")
        except (UnicodeEncodeError, TypeError, ValueError) as exc:
            raise InvalidDigestError(
                f"hex values {start}..{start + len(block) - 1} contain non-ASCII text or non-strings"
            ) from exc
        chars = raw.view(np.uint8).reshape(len(block), digits + 1)
        nibbles = _NIBBLES[chars[:, :digits]]
        bad = (nibbles == _INVALID).any(axis=1) | (chars[:, digits] != 0)
        if bad.any():
            first = start + int(np.flatnonzero(bad)[0])
            raise InvalidDigestError(
                f"value at position {first} is not {digits} hex digits ({int(bad.sum())} bad values)"
            )
        out[start : start + len(block)] = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return out


def hex_from_bytes(rows: NDArray[np.uint8]) -> list[str]:
    """Lower-case hex text of each row of a ``uint8[N, width]`` array."""
    array = np.ascontiguousarray(rows, dtype=np.uint8)
    if array.ndim != 2:
        raise ValueError("expected a 2-D uint8 array of rows")
    digits = 2 * array.shape[1]
    text = array.tobytes().hex()
    return [text[i : i + digits] for i in range(0, len(text), digits)]
