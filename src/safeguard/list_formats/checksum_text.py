"""md5sum / sha1sum / sha256sum text: ``HEX  name`` or ``HEX *name`` per line.

Also reads bare digests (one per line), the BSD style that ``md5sum --tag`` writes
(``MD5 (name) = HEX``), GNU's escaped names (a line starting with a backslash has escaped
newlines and backslashes in its name), md5deep's ``-z`` lines (the size first), and
NUL-terminated records (``md5sum -z``, ``md5deep -0``), whose names are not escaped. The
algorithm of each line comes from the digest length (32 = MD5, 40 = SHA-1, 64 = SHA-256).

Bare 64-digit values without a file name are SHA-256 or PDQ (``threatexchange dataset -S -s
pdq`` writes such files). Every PDQ hash of a real picture has exactly 128 of its 256 bits set,
which a SHA-256 value has only about one time in twenty, so the file's values decide
(`BareValueDecision`); a file too short to tell, or mixed, is refused with the way out
(``--format pdq`` or ``--format sha256sum``) rather than misread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from itertools import islice
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
from safeguard.list_formats.entry_columns import (
    BATCH_ROWS,
    DIGEST_COLUMN,
    ColumnarEntries,
    EntryColumns,
)
from safeguard.list_formats.record_parsing import RecordError, guarded_columns, parse_digest

# DOTALL: in NUL-terminated records a name may hold a newline, unescaped.
_SIZED_LINE = re.compile(
    r"^\s*(?P<size>\d+)\s+(?P<hex>[0-9a-fA-F]{32,64})\s+(?P<name>.*)$", re.DOTALL
)
_GNU_LINE = re.compile(
    r"^(?P<escaped>\\?)(?P<hex>[0-9a-fA-F]{32,64})(?:(?: |\t)[ *]?(?P<name>.*))?$", re.DOTALL
)
_BSD_LINE = re.compile(
    r"^(?P<escaped>\\?)(?P<algo>MD5|SHA1|SHA256) \((?P<name>.*)\) = (?P<hex>[0-9a-fA-F]+)$",
    re.DOTALL,
)
_BY_LENGTH = {32: HashAlgorithm.MD5, 40: HashAlgorithm.SHA1, 64: HashAlgorithm.SHA256}
_BSD_NAMES = {"MD5": HashAlgorithm.MD5, "SHA1": HashAlgorithm.SHA1, "SHA256": HashAlgorithm.SHA256}
_SAMPLE_LINES = 20
_DECISION_SAMPLE = 200
_DECISION_LINES = 10_000  # bare values are looked for among the first lines only
_MIN_VALUES_TO_DECIDE = 5
_PDQ_BITS_SET = 128


def _content_lines(text: str) -> list[str]:
    separator = "\0" if "\0" in text else "\n"
    lines = [line.strip("\r\n") if separator == "\n" else line for line in text.split(separator)]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def looks_like_pdq(hex_value: str) -> bool:
    """True when a 64-digit value has the bit balance of a PDQ hash (128 of 256 bits, +-1)."""
    return abs(int(hex_value, 16).bit_count() - _PDQ_BITS_SET) <= 1


def decide_bare_values(values: list[str], path: Path) -> HashAlgorithm:
    """The algorithm of a file's bare 64-digit values (no names), from a sample of them.

    PDQ when at least `_MIN_VALUES_TO_DECIDE` values are sampled and 90 % have PDQ's bit
    balance; SHA-256 when at most half have it (a PDQ hash of a real picture always does).
    Otherwise the file name decides when it says ``pdq`` or ``sha256``.

    Raises:
        ListFormatError: the values cannot tell and the name does not say.
    """
    balanced = sum(looks_like_pdq(value) for value in values)
    if len(values) >= _MIN_VALUES_TO_DECIDE and balanced >= 0.9 * len(values):
        return HashAlgorithm.PDQ
    if balanced <= 0.5 * len(values):
        return HashAlgorithm.SHA256
    lowered = path.name.lower()
    if "pdq" in lowered:
        return HashAlgorithm.PDQ
    if "sha256" in lowered or "sha-256" in lowered:
        return HashAlgorithm.SHA256
    raise ListFormatError(
        str(path),
        None,
        f"{len(values)} bare 64-digit value(s) without file names can be SHA-256 or PDQ and the "
        "file does not show which; import it with --format pdq or --format sha256sum",
    )


class ChecksumTextReader:
    """Reader for md5sum, sha1sum and sha256sum output and plain digest-per-line lists.

    Args:
        name: the registry name.
        bare_64: the algorithm of bare 64-digit values (no file name); None decides from the
            file (`decide_bare_values`).
        detects: False for the variants only chosen by name (``pdq``, ``sha256sum``).
    """

    def __init__(
        self,
        name: str = "checksum-text",
        *,
        bare_64: HashAlgorithm | None = None,
        detects: bool = True,
    ) -> None:
        self.name = name
        self._bare_64 = bare_64
        self._detects = detects

    def detect(self, head: bytes, path: Path) -> bool:
        """True when the first non-comment lines are all checksum lines."""
        if not self._detects:
            return False
        text = head.decode("utf-8-sig", "replace")
        lines = _content_lines(text)
        if len(head) >= 4096 and lines:
            lines = lines[:-1]  # the last line may be cut by the head limit
        sample = lines[:_SAMPLE_LINES]
        return bool(sample) and all(_parse_line(line) is not None for line in sample)

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Stream the file's lines as entries named by the line's file name.

        Raises:
            ListFormatError: at once when bare 64-digit values cannot be told apart (see
                `decide_bare_values`); while iterating, for a line that is not a checksum line.
        """
        source = str(path)
        report = ReadReport()
        bare_64 = self._bare_64
        if bare_64 is None:
            with closing(_numbered_lines(path, source)) as lines:
                bare = (
                    parsed[1]
                    for _, line in islice(lines, _DECISION_LINES)
                    if (parsed := _parse_line(line)) is not None
                    and parsed[2] is None
                    and len(parsed[1]) == 64
                )
                sample = list(islice(bare, _DECISION_SAMPLE))
            if sample:
                bare_64 = decide_bare_values(sample, path)
        stated = {"bare_64_digit_values": bare_64.value} if bare_64 is not None else {}
        metadata = ListMetadata(format_name=self.name, suggested_name=path.stem, stated=stated)
        chosen = bare_64 or HashAlgorithm.SHA256

        def parse(number: int, line: str) -> HashEntry:
            return _line_entry(line, chosen)

        entries = ColumnarEntries(
            _bare_value_batches(
                _numbered_lines(path, source), chosen, parse, source, errors, report
            ),
            report,
        )
        return ParsedList(metadata, entries, report)


def _bare_value_batches(
    lines: Generator[tuple[int, str], None, None],
    bare_64: HashAlgorithm,
    parse: Callable[[int, str], HashEntry],
    source: str,
    policy: ErrorPolicy,
    report: ReadReport,
) -> Iterator[EntryColumns]:
    """The lines in batches of columns, each batch taken whole when it can be.

    A batch of bare lower-case digests of one length (``threatexchange dataset -S``
    output) becomes columns at once; any other batch is parsed line by line.
    """
    try:
        while chunk := list(islice(lines, BATCH_ROWS)):
            values = [line for _, line in chunk]
            lengths = set(map(len, values))
            algorithm = _BY_LENGTH.get(lengths.pop()) if len(lengths) == 1 else None
            # The joined text stripped of hex digits is empty exactly when every character
            # is one: a line holds a canonical digest and nothing else.
            if algorithm is None or "".join(values).strip("0123456789abcdef"):
                parsed = guarded_columns(chunk, parse, source=source, policy=policy, report=report)
                if parsed is not None:
                    yield parsed
                continue
            if len(chunk[0][1]) == 64:
                algorithm = bare_64
            ids = [derived_entry_id({algorithm: value}) for value in values]
            report.records += len(values)
            report.entries += len(values)
            report.last_record = chunk[-1][0]
            yield EntryColumns.of_columns(
                len(values),
                {"entry_id": ids, DIGEST_COLUMN[algorithm]: values},
                [number for number, _ in chunk],
            )
    finally:
        lines.close()


def _numbered_lines(path: Path, source: str) -> Generator[tuple[int, str], None, None]:
    """(record number, record) for every non-blank, non-comment line or NUL-ended record."""
    try:
        with path.open("rb") as probe:
            nul_terminated = b"\0" in probe.read(65536)
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            records = _nul_records(handle) if nul_terminated else handle
            for number, line in enumerate(records, start=1):
                line = line.rstrip("\0") if nul_terminated else line.rstrip("\r\n")
                if line.strip() and not line.lstrip().startswith("#"):
                    yield number, line
    except OSError as exc:
        raise ListFormatError(source, None, f"cannot read the file: {exc.strerror}") from exc


def _nul_records(handle: TextIO) -> Iterator[str]:
    """Records ended by NUL (names may hold newlines, unescaped), read in chunks."""
    pending = ""
    while chunk := handle.read(65536):
        pending += chunk
        *complete, pending = pending.split("\0")
        yield from complete
    if pending.strip():
        yield pending


def _parse_line(line: str) -> tuple[HashAlgorithm, str, str | None, int | None] | None:
    """(algorithm, hex, name, size) for a checksum line, or None when the line is not one.

    The algorithm of a 64-digit value is SHA-256 here; the reader may read it as PDQ.
    """
    size: int | None = None
    match = _BSD_LINE.match(line)
    if match:
        algorithm = _BSD_NAMES[match.group("algo")]
    else:
        match = _GNU_LINE.match(line) or _GNU_LINE.match(line.strip())
        if not match:
            match = _SIZED_LINE.match(line)
            if not match:
                return None
            size = int(match.group("size"))
        found = _BY_LENGTH.get(len(match.group("hex")))
        if found is None:
            return None
        algorithm = found
    name = match.group("name")
    if name is not None and match.groupdict().get("escaped"):
        name = _unescape(name)
    return algorithm, match.group("hex"), name or None, size


def _unescape(name: str) -> str:
    escapes = {"n": "\n", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), name)


def _line_entry(line: str, bare_64: HashAlgorithm) -> HashEntry:
    parsed = _parse_line(line)
    if parsed is None:
        raise RecordError("not a checksum line (want HEX  name, HEX *name or a bare digest)")
    algorithm, hex_digest, name, size = parsed
    if len(hex_digest) == 64 and name is None:
        algorithm = bare_64
    value = parse_digest(algorithm, hex_digest, algorithm.value)
    assert value is not None  # the pattern guarantees a non-empty digest
    digests = {algorithm: value}
    return HashEntry(entry_id=derived_entry_id(digests), digests=digests, file_name=name, size=size)


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
