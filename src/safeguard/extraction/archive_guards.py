"""Guards shared by the archive readers: safe member paths and expansion budgets."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from safeguard.domain.errors import EvidenceError
from safeguard.domain.evidence import CONTAINER_SEPARATOR, ExtractedFile
from safeguard.extraction.contract import EvidenceItem, EvidenceSource, ExtractionLimits

_DRIVE = re.compile(r"^[A-Za-z]:$")


def member_path(label: str, name: str) -> tuple[str, str | None, str | None]:
    """Build a member's path inside `label` from its stored name, safely.

    Returns:
        ``(path, original_name, error)``: `original_name` is the stored name when it had to be
        changed, and `error` says why when the name tried to leave the archive.
    """
    text = name.replace("\\", "/")
    raw_parts = text.split("/")
    parts = [part for part in raw_parts if part not in ("", ".", "..")]
    if parts and _DRIVE.match(parts[0]):
        parts = parts[1:]
    unsafe = (
        ".." in raw_parts
        or text.startswith("/")
        or (bool(raw_parts) and bool(_DRIVE.match(raw_parts[0])))
    )
    if not parts:
        parts = ["(unnamed)"]
    path = CONTAINER_SEPARATOR.join((label, *parts))
    changed = CONTAINER_SEPARATOR.join(parts) != name
    error = f"unsafe member name {name!r} (path traversal); normalised" if unsafe else None
    return path, (name if changed else None), error


def archive_error_item(
    source: EvidenceSource, error: str, *, encrypted: bool = False
) -> EvidenceItem:
    """An item standing for the inside of a container that could not be read (``label/``)."""
    path = source.label + CONTAINER_SEPARATOR
    return EvidenceItem(
        ExtractedFile(path=path, size=0, error=error, encrypted=encrypted), depth=source.depth
    )


class ExpansionBudget:
    """Declared and actual expanded bytes of one archive, against the limits."""

    def __init__(self, limits: ExtractionLimits) -> None:
        self.limits = limits
        self.declared = 0
        self.members = 0

    def refuse(self, size: int, compressed: int | None) -> str | None:
        """Why a member of `size` (declared) must not be read, or None to accept and count it."""
        limits = self.limits
        if self.members >= limits.max_members:
            return f"member count limit ({limits.max_members}) reached; member not read"
        if self.declared + size > limits.max_expanded_bytes:
            return (
                f"expanded size limit ({limits.max_expanded_bytes} bytes) reached; "
                f"member of {size} bytes not read"
            )
        if compressed is not None and size > limits.ratio_floor_bytes:
            ratio = size / max(compressed, 1)
            if ratio > limits.max_ratio:
                return f"compression ratio {ratio:.0f}:1 exceeds the limit {limits.max_ratio:.0f}:1; member not read"
        self.members += 1
        self.declared += size
        return None


def stream_ratio_guard(
    limits: ExtractionLimits, compressed_size: int, label: str
) -> Callable[[int], None]:
    """An ``on_read`` hook that stops a stream whose actual expansion ratio is too high."""
    total = 0

    def check(count: int) -> None:
        nonlocal total
        total += count
        if total > limits.ratio_floor_bytes and total / max(compressed_size, 1) > limits.max_ratio:
            raise EvidenceError(
                f"{label}: expansion ratio exceeds {limits.max_ratio:.0f}:1; reading stopped"
            )

    return check


def with_error(base: ExtractedFile, error: str, *, encrypted: bool = False) -> ExtractedFile:
    """A copy of `base` with `error` added (after any error it already has)."""
    joined = f"{base.error}; {error}" if base.error else error
    return replace(base, error=joined, encrypted=encrypted or base.encrypted)
