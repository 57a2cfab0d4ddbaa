"""PDQ codes as ``uint8[N, 32]`` arrays: hex text in and out, and the checks on index arguments.

A code's bytes are those of its 64-digit hex text (``bytes.fromhex`` order). `PdqIndex` takes
codes, ids and thresholds only through the checks here, so a wrong shape or an out-of-range
threshold is a `ValueError` at the call, never a wrong answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import PDQ_BITS
from safeguard.matching.hex_arrays import bytes_from_hex, hex_from_bytes

__all__ = ["CODE_BYTES", "codes_from_hex", "hex_from_code"]

CODE_BYTES = PDQ_BITS // 8


def codes_from_hex(hexes: Sequence[str]) -> NDArray[np.uint8]:
    """PDQ hex strings (64 digits, either case) to ``uint8[N, 32]`` (``bytes.fromhex`` order).

    Raises:
        InvalidDigestError: a value is not 64 hex digits.
    """
    return bytes_from_hex(hexes, CODE_BYTES)


def hex_from_code(code: NDArray[np.uint8]) -> str:
    """The 64-digit lower-case hex text of one ``uint8[32]`` code."""
    return hex_from_bytes(np.asarray(code, dtype=np.uint8).reshape(1, CODE_BYTES))[0]


def as_codes(codes: NDArray[np.uint8], what: str = "codes") -> NDArray[np.uint8]:
    """`codes` as a contiguous ``uint8[N, 32]`` array (one ``uint8[32]`` code becomes N = 1).

    Raises:
        ValueError: any other shape (the message names the argument as `what`).
    """
    array = np.ascontiguousarray(codes, dtype=np.uint8)
    if array.ndim == 1 and array.shape[0] == CODE_BYTES:
        array = array.reshape(1, CODE_BYTES)
    if array.ndim != 2 or array.shape[1] != CODE_BYTES:
        raise ValueError(f"{what} must have shape (N, {CODE_BYTES}), got {array.shape}")
    return array


def as_ids(ids: NDArray[np.int64], count: int) -> NDArray[np.int64]:
    """`ids` as a contiguous ``int64[count]`` array.

    Raises:
        ValueError: there are not `count` ids.
    """
    array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
    if array.shape[0] != count:
        raise ValueError(f"got {array.shape[0]} ids for {count} codes")
    return array


def check_threshold(threshold: int) -> int:
    """`threshold` as an int.

    Raises:
        ValueError: it is outside 0 to 256 bits.
    """
    value = int(threshold)
    if not 0 <= value <= PDQ_BITS:
        raise ValueError(f"threshold must be between 0 and {PDQ_BITS}, got {threshold}")
    return value
