"""NIST NSRL RDSv3 (a SQLite database), queried in place and read-only.

The full RDSv3 set is over 150 GB, so it is never copied: `NsrlDatabase` answers batched lookups
straight from the file, which it opens with SQLite's ``mode=ro`` URI (and optionally
``immutable=1`` for read-only media). The "minimal" schema has
``FILE(sha256, sha1, md5, crc32, file_name, file_size, package_id)`` plus ``PKG``, ``OS``, ``MFG``,
``VERSION`` and the ``DISTINCT_HASH`` view; the curated schema offers ``FILE`` and ``PKG`` as views
with the same columns, so both work. NSRL stores upper-case hex; lookups ask for both cases so
that an index on the column is used either way.

NSRL means *known* (it includes hacking tools), not *harmless*; Safeguard files it as known-good
because that is how examiners use it: to hide what they need not look at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from safeguard.domain.digests import HashAlgorithm, normalise_digest
from safeguard.domain.errors import ListFormatError
from safeguard.domain.hash_lists import HashEntry, ListKind, Provenance
from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ParsedList,
    ReadReport,
    derived_entry_id,
)
from safeguard.list_formats.record_parsing import RecordError, guard_records, parse_digest

SQLITE_MAGIC = b"SQLite format 3\x00"
LOOKUP_BATCH = 400
"""Values per query: two bound parameters each, under SQLite's older 999-parameter limit."""

_COLUMNS: Mapping[HashAlgorithm, str] = {
    HashAlgorithm.SHA256: "sha256",
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.MD5: "md5",
}
_REQUIRED = frozenset({"sha256", "sha1", "md5", "file_name", "file_size", "package_id"})
_ROW = "SELECT sha256, sha1, md5, file_name, file_size, package_id FROM FILE"


class NsrlDatabase:
    """One RDSv3 SQLite file, open read-only for lookups.

    Args:
        path: the ``.db`` file.
        immutable: also tell SQLite the file cannot change (no locks, no journal look-ups); use
            for read-only media.

    Raises:
        ListFormatError: the file cannot be opened or lacks the RDSv3 ``FILE`` columns.
    """

    def __init__(self, path: Path, *, immutable: bool = False) -> None:
        self.path = path
        self._source = str(path)
        if not path.is_file():
            raise ListFormatError(self._source, None, "no such file")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            columns = {
                row[1].lower() for row in self._connection.execute("PRAGMA table_info(FILE)")
            }
        except sqlite3.DatabaseError as exc:
            raise ListFormatError(self._source, None, f"not a readable SQLite file: {exc}") from exc
        missing = _REQUIRED - columns
        if missing:
            self._connection.close()
            raise ListFormatError(
                self._source, None, f"not an NSRL RDSv3 database: FILE lacks {sorted(missing)}"
            )
        self._tables = {
            str(row[0]).upper()
            for row in self._connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            )
        }

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def __enter__(self) -> NsrlDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def lookup(self, algorithm: HashAlgorithm, values: Sequence[str]) -> dict[str, HashEntry]:
        """The NSRL entries for the given digests, keyed by canonical (lower-case) digest.

        Queries in batches of `LOOKUP_BATCH` with ``WHERE <column> IN (...)`` so an index on the
        column is used. A digest listed under several packages gives one entry (the first row).

        Raises:
            ValueError: `algorithm` is not MD5, SHA-1 or SHA-256.
            InvalidDigestError: a value is not a digest of `algorithm`.
        """
        column = _COLUMNS.get(algorithm)
        if column is None:
            raise ValueError(f"NSRL holds MD5, SHA-1 and SHA-256, not {algorithm.value}")
        wanted = sorted({normalise_digest(algorithm, value) for value in values})
        found: dict[str, HashEntry] = {}
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start : start + LOOKUP_BATCH]
            parameters = [v.upper() for v in batch] + batch
            marks = ",".join("?" * len(parameters))
            rows = self._connection.execute(f"{_ROW} WHERE {column} IN ({marks})", parameters)
            for row in rows:
                key = str(row[{"sha256": 0, "sha1": 1, "md5": 2}[column]]).lower()
                if key not in found:
                    found[key] = _row_entry(row)
        return self._with_packages(found)

    def count(self) -> int:
        """Rows in ``FILE`` (one per file per package). A full scan: slow on a full set."""
        return int(self._connection.execute("SELECT COUNT(*) FROM FILE").fetchone()[0])

    def indexed_algorithms(self) -> frozenset[HashAlgorithm]:
        """Algorithms whose column leads an index on ``FILE``, so lookups by them are fast."""
        leading: set[str] = set()
        for index in self._connection.execute("PRAGMA index_list(FILE)").fetchall():
            info = self._connection.execute(f"PRAGMA index_info({_quoted(index[1])})").fetchall()
            if info:
                leading.add(str(info[0][2]).lower())
        return frozenset(a for a, c in _COLUMNS.items() if c in leading)

    def metadata(self) -> ListMetadata:
        """Source, version and build set from the ``VERSION`` table, when it exists."""
        stated: dict[str, str] = {}
        if "VERSION" in self._tables:
            row = self._connection.execute(
                "SELECT version, build_set, build_date, release_date, description "
                "FROM VERSION ORDER BY rowid DESC LIMIT 1"
            ).fetchone()
            if row is not None:
                names = ("version", "build_set", "build_date", "release_date", "description")
                stated = {k: str(v) for k, v in zip(names, row, strict=True) if v is not None}
        build_set = stated.get("build_set", "")
        return ListMetadata(
            format_name=NsrlReader.name,
            source="NIST NSRL",
            version=stated.get("version", ""),
            suggested_name=f"nsrl-{build_set}".lower().replace(" ", "-") if build_set else None,
            suggested_kind=ListKind.KNOWN_GOOD,
            stated=stated,
        )

    def iter_rows(self) -> Iterator[tuple[object, ...]]:
        """Every distinct digest triple with one name, size and package (for small sets)."""
        query = (
            "SELECT sha256, sha1, md5, MIN(file_name), MIN(file_size), MIN(package_id) "
            "FROM FILE GROUP BY sha256, sha1, md5"
        )
        yield from self._connection.execute(query)

    def _with_packages(self, found: dict[str, HashEntry]) -> dict[str, HashEntry]:
        """Add the package name and version to each entry's notes, when PKG exists."""
        if not found or "PKG" not in self._tables:
            return found
        ids = sorted(
            {
                e.provenance.source_record_id
                for e in found.values()
                if e.provenance.source_record_id is not None
            }
        )
        names: dict[str, str] = {}
        for start in range(0, len(ids), LOOKUP_BATCH):
            batch = ids[start : start + LOOKUP_BATCH]
            marks = ",".join("?" * len(batch))
            query = f"SELECT package_id, name, version FROM PKG WHERE package_id IN ({marks})"
            for package_id, name, version in self._connection.execute(query, batch):
                names[str(package_id)] = " ".join(str(p) for p in (name, version) if p)
        result: dict[str, HashEntry] = {}
        for key, entry in found.items():
            package = names.get(entry.provenance.source_record_id or "")
            if package:
                provenance = Provenance(
                    source_record_id=entry.provenance.source_record_id,
                    notes=f"package: {package}",
                )
                entry = HashEntry(
                    entry.entry_id,
                    entry.digests,
                    entry.category,
                    provenance,
                    entry.file_name,
                    entry.size,
                )
            result[key] = entry
        return result


def _quoted(identifier: object) -> str:
    return '"' + str(identifier).replace('"', '""') + '"'


def _row_entry(row: Sequence[object]) -> HashEntry:
    """An entry from (sha256, sha1, md5, file_name, file_size, package_id)."""
    digests: dict[HashAlgorithm, str] = {}
    for algorithm, value in zip(_COLUMNS, row[:3], strict=True):
        digest = parse_digest(algorithm, value, _COLUMNS[algorithm])
        if digest is not None:
            digests[algorithm] = digest
    if not digests:
        raise RecordError("no sha256, sha1 or md5 value")
    size = row[4]
    package_id = row[5]
    return HashEntry(
        entry_id=derived_entry_id(digests),
        digests=digests,
        provenance=Provenance(source_record_id=None if package_id is None else str(package_id)),
        file_name=None if row[3] is None else str(row[3]),
        size=size if isinstance(size, int) and size >= 0 else None,
    )


class NsrlReader:
    """Reader that streams a small RDSv3 database as a list (use `NsrlDatabase` for full sets)."""

    name = "nsrl"

    def detect(self, head: bytes, path: Path) -> bool:
        """True for a SQLite file with the RDSv3 ``FILE`` columns."""
        if not head.startswith(SQLITE_MAGIC):
            return False
        try:
            NsrlDatabase(path).close()
        except ListFormatError:
            return False
        return True

    def read(self, path: Path, *, errors: ErrorPolicy = ErrorPolicy.STRICT) -> ParsedList:
        """Stream every distinct digest triple as a known-good entry.

        Raises:
            ListFormatError: not an RDSv3 database (at once); a malformed row (while iterating).
        """
        with NsrlDatabase(path) as database:
            metadata = database.metadata()
        if metadata.suggested_name is None:
            metadata = ListMetadata(
                format_name=metadata.format_name,
                source=metadata.source,
                version=metadata.version,
                suggested_name=path.stem,
                suggested_kind=metadata.suggested_kind,
                stated=metadata.stated,
            )
        report = ReadReport()
        entries = guard_records(
            _numbered(path),
            lambda number, row: _row_entry(row),
            source=str(path),
            policy=errors,
            report=report,
        )
        return ParsedList(metadata, entries, report)


def _numbered(path: Path) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Numbered rows; the database is opened only once iteration starts, and always closed."""
    with NsrlDatabase(path) as database:
        yield from enumerate(database.iter_rows(), start=1)
