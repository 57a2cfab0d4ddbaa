"""7z archives through py7zr.

py7zr decompresses solid blocks as a whole, so members cannot be streamed one at a time
cheaply. The reader checks declared sizes first, then decompresses the accepted members once
into private spools (memory up to `ExtractionLimits.spool_memory_bytes` in all, then temporary
files), counting bytes as they arrive so a lying header still stops at the limit. Encrypted
headers (nothing can be listed) and encrypted content (members listed, not readable) are both
reported.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC
from typing import IO, BinaryIO

from safeguard.domain.errors import EvidenceError
from safeguard.domain.evidence import ExtractedFile
from safeguard.domain.extras import import_extra
from safeguard.extraction.archive_guards import ExpansionBudget, archive_error_item, member_path
from safeguard.extraction.contract import EvidenceItem, EvidenceSource, ExtractionLimits
from safeguard.extraction.streams import NonClosingStream

_MAGIC = b"7z\xbc\xaf\x27\x1c"
_SPOOL_SLICE = 8 * 1024 * 1024


class _SpoolFactory:
    """py7zr writer factory: one bounded spool per member, memory first, then temporary files."""

    def __init__(self, stack: ExitStack, limits: ExtractionLimits) -> None:
        self._stack = stack
        self._limits = limits
        self._in_memory = 0
        self._written = 0
        self.spools: dict[str, _Spool] = {}

    def create(self, filename: str) -> _Spool:
        budget = min(self._limits.spool_memory_bytes - self._in_memory, _SPOOL_SLICE)
        backing: IO[bytes]
        if budget > 0:
            backing = self._stack.enter_context(tempfile.SpooledTemporaryFile(max_size=budget))  # noqa: SIM115
            self._in_memory += budget
        else:
            backing = self._stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        spool = _Spool(backing, self)
        self.spools[filename] = spool
        return spool

    def count(self, size: int) -> None:
        self._written += size
        if self._written > self._limits.max_expanded_bytes:
            raise EvidenceError(
                f"7z content expands beyond the limit of {self._limits.max_expanded_bytes} bytes"
            )


class _Spool:
    """The py7zr ``Py7zIO`` protocol over a spooled file."""

    def __init__(self, backing: IO[bytes], factory: _SpoolFactory) -> None:
        self.backing = backing
        self._factory = factory
        self.written = 0

    def write(self, data: bytes | bytearray) -> int:
        self._factory.count(len(data))
        self.written += len(data)
        return self.backing.write(data)

    def read(self, size: int | None = None) -> bytes:
        return self.backing.read(-1 if size is None else size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.backing.seek(offset, whence)

    def flush(self) -> None:
        self.backing.flush()

    def size(self) -> int:
        return self.written

    def close(self) -> None:
        """Kept open: the reader closes every spool when the archive is done."""


class SevenZipReader:
    """7z archives (LZMA/LZMA2/BZip2/Deflate/...; AES-encrypted headers or content flagged)."""

    name = "7z"

    def detect(self, source: EvidenceSource) -> bool:
        """7z signature at the start."""
        return source.head(6) == _MAGIC

    def iter_items(
        self, source: EvidenceSource, limits: ExtractionLimits
    ) -> Iterator[EvidenceItem]:
        """Members in stored order; directories are not yielded."""
        py7zr = import_extra("py7zr", "forensics", "7z archives")
        assert source.opener is not None
        with source.opener() as raw, ExitStack() as stack:
            archive_size = raw.seek(0, 2)
            raw.seek(0)
            try:
                archive = stack.enter_context(py7zr.SevenZipFile(raw, mode="r"))
                infos = [info for info in archive.list() if not info.is_directory]
                encrypted = archive.needs_password()
            except py7zr.PasswordRequired:
                yield archive_error_item(
                    source,
                    "encrypted 7z archive (headers encrypted); members not listed",
                    encrypted=True,
                )
                return
            except Exception as exc:  # py7zr raises many kinds on damaged input
                yield archive_error_item(source, f"corrupt 7z archive: {exc}")
                return
            items: list[tuple[ExtractedFile, bool]] = []
            budget = ExpansionBudget(limits)
            total = sum(info.uncompressed for info in infos)
            for index, info in enumerate(infos):
                path, original, error = member_path(source.label, info.filename)
                created = info.creationtime
                modified = (
                    created.astimezone(UTC) if created is not None and created.tzinfo else None
                )
                base = ExtractedFile(
                    path=path,
                    size=info.uncompressed,
                    modified=modified,
                    address=str(index),
                    original_name=original,
                    error=error,
                    encrypted=encrypted,
                )
                refusal = "encrypted member; content not readable" if encrypted else None
                if refusal is None and info.is_symlink:
                    refusal = "symbolic link; not followed"
                if refusal is None:
                    refusal = budget.refuse(info.uncompressed, None)
                if refusal is None and total > limits.ratio_floor_bytes:
                    ratio = total / max(archive_size, 1)
                    if ratio > limits.max_ratio:
                        refusal = f"archive expands {ratio:.0f}:1, beyond the limit {limits.max_ratio:.0f}:1"
                if refusal is not None:
                    joined = f"{error}; {refusal}" if error else refusal
                    base = replace(base, error=joined)
                items.append((base, refusal is None))
            wanted = [info.filename for info, (_, ok) in zip(infos, items, strict=True) if ok]
            factory = _SpoolFactory(stack, limits)
            failure: str | None = None
            if wanted:
                try:
                    archive.extract(targets=wanted, factory=factory)
                except Exception as exc:  # damaged stream, CRC error, bomb guard
                    failure = f"7z content unreadable: {exc}"
            for info, (base, ok) in zip(infos, items, strict=True):
                yield _member_item(base, ok, factory.spools.get(info.filename), failure)


def _member_item(
    base: ExtractedFile, ok: bool, spool: _Spool | None, failure: str | None
) -> EvidenceItem:
    if not ok:
        return EvidenceItem(base)
    if spool is None or spool.written < base.size:
        reason = failure or "member content missing after decompression"
        joined = f"{base.error}; {reason}" if base.error else reason
        return EvidenceItem(replace(base, error=joined))
    backing = spool.backing

    @contextmanager
    def opener() -> Iterator[BinaryIO]:
        backing.seek(0)
        yield NonClosingStream(backing)  # type: ignore[arg-type, misc]

    return EvidenceItem(base, opener=opener)
