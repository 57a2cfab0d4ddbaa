"""md5sum / sha1sum / sha256sum text: ``HEX  name`` or ``HEX *name`` per line.

Also reads bare digests (one per line), the BSD style that ``md5sum --tag`` writes
(``MD5 (name) = HEX``), and GNU's escaped names (a line starting with a backslash has escaped
newlines and backslashes in its name). The algorithm of each line comes from the digest length
(32 = MD5, 40 = SHA-1, 64 = SHA-256; in checksum files 64 digits never mean PDQ).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, TextIO, cast

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry
from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ParsedList,
    ReadReport,
    derived_entry_id,
)
from safeguard.list_formats.record_parsing import RecordError, guard_records, parse_digest

_GNU_LINE = re.compile(
    r"^(?P<escaped>\\?)(?P<hex>[0-9a-fA-F]{32,64})(?:(?: |\t)[ *]?(?P<name>.*))?$"
)
_BSD_LINE = re.compile(
    r"^(?P<escaped>\\?)(?P<algo>MD5|SHA1|SHA256) \((?P<name>.*)\) = (?P<hex>[0-9a-fA-F]+)$"
)
_BY_LENGTH = {32: HashAlgorithm.MD5, 40: HashAlgorithm.SHA1, 64: HashAlgorithm.SHA256}
_BSD_NAMES = {"MD5": HashAlgorithm.MD5, "SHA1": HashAlgorithm.SHA1, "SHA256": HashAlgorithm.SHA256}
_SAMPLE_LINES = 20


def _content_lines(text: str) -> list[str]:
    lines = [line.strip("\r") for line in text.split("\n")]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


class ChecksumTextReader:
    """Reader for md5sum, sha1sum and sha256sum output and plain digest-per-line lists."""

    name = "checksum-text"

    def detect(self, head: bytes, path: Path) -> bool:
        """True when the first non-comment lines are all checksum lines."""
        text = head.decode("utf-8-sig", "replace")
        lines = _content_lines(text)
        if len(head) >= 4096 and lines:
            lines = lines[:-1]  # the last line may be cut by the head limit
        sample = lines[:_SAMPLE_LINES]
        return bool(sample) and all(_parse_line(line) is not None for line in sample)

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Stream the file's lines as entries named by the line's file name.

        Raises:
            ListFormatError: while iterating, for a line that is not a checksum line.
        """
        source = str(path)
        report = ReadReport()
        metadata = ListMetadata(format_name=self.name, suggested_name=path.stem)
        entries = guard_records(
            _numbered_lines(path, source), _line_entry, source=source, policy=errors, report=report
        )
        return ParsedList(metadata, entries, report)


def _numbered_lines(path: Path, source: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every non-blank, non-comment line."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip("\r\n")
                if line.strip() and not line.lstrip().startswith("#"):
                    yield number, line
    except OSError as exc:
        raise ListFormatError(source, None, f"cannot read the file: {exc.strerror}") from exc


def _parse_line(line: str) -> tuple[HashAlgorithm, str, str | None] | None:
    """(algorithm, hex, name) for a checksum line, or None when the line is not one."""
    match = _BSD_LINE.match(line)
    if match:
        algorithm = _BSD_NAMES[match.group("algo")]
    else:
        match = _GNU_LINE.match(line) or _GNU_LINE.match(line.strip())
        if not match:
            return None
        found = _BY_LENGTH.get(len(match.group("hex")))
        if found is None:
            return None
        algorithm = found
    name = match.group("name")
    if name is not None and match.group("escaped"):
        name = _unescape(name)
    return algorithm, match.group("hex"), name or None


def _unescape(name: str) -> str:
    escapes = {"n": "\n", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), name)


def _line_entry(number: int, line: str) -> HashEntry:
    parsed = _parse_line(line)
    if parsed is None:
        raise RecordError("not a checksum line (want HEX  name, HEX *name or a bare digest)")
    algorithm, hex_digest, name = parsed
    value = parse_digest(algorithm, hex_digest, algorithm.value)
    assert value is not None  # the pattern guarantees a non-empty digest
    digests = {algorithm: value}
    return HashEntry(entry_id=derived_entry_id(digests), digests=digests, file_name=name)


class ChecksumTextWriter:
    """Writer for md5sum/sha1sum/sha256sum text in binary mode (``HEX *name``).

    Entries without the writer's digest are skipped. Names with a newline or backslash are
    escaped the GNU way (the line starts with a backslash). An entry with no file name gets its
    entry id as the name.

    Args:
        algorithm: MD5, SHA-1 or SHA-256.
    """

    binary = False

    def __init__(self, algorithm: HashAlgorithm) -> None:
        if algorithm not in _BSD_NAMES.values():
            raise ValueError(f"checksum text holds MD5, SHA-1 or SHA-256, not {algorithm.value}")
        self.algorithm = algorithm
        self.name = f"{algorithm.value}sum"

    def write(
        self, entries: Iterable[HashEntry], stream: TextIO | BinaryIO, metadata: ListMetadata
    ) -> int:
        """Write one line per entry that has the digest; returns the number of lines."""
        out = cast(TextIO, stream)
        count = 0
        for entry in entries:
            value = entry.digests.get(self.algorithm)
            if value is None:
                continue
            name = entry.file_name or entry.entry_id
            prefix = ""
            if "\\" in name or "\n" in name or "\r" in name:
                prefix = "\\"
                name = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            out.write(f"{prefix}{value} *{name}\n")
            count += 1
        return count
