"""The readers and writers Safeguard knows, by name, and detection of a file's format.

Built-in formats are registered with the same `register_reader`/`register_writer` calls a plugin
uses. Third-party packages can add more through the entry-point groups
``safeguard.list_readers`` and ``safeguard.list_writers`` (each entry point loads to a reader or
writer instance, or a zero-argument class), loaded on first use.

Detection asks readers in registration order and takes the first that recognises the content;
readers with an unmistakable signature (SQLite magic, the hashdeep header, JSON) come before the
permissive text formats.
"""

from __future__ import annotations

from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ListFormatError
from safeguard.list_formats.checksum_text import ChecksumTextReader, ChecksumTextWriter
from safeguard.list_formats.contract import ListReader, ListWriter, read_head
from safeguard.list_formats.delimited import DelimitedReader
from safeguard.list_formats.delimited_writer import DelimitedWriter
from safeguard.list_formats.hashdeep import HashdeepReader, HashdeepWriter
from safeguard.list_formats.nsrl import NsrlReader
from safeguard.list_formats.threatexchange import (
    JsonLinesReader,
    ThreatexchangeSignalsReader,
    ThreatexchangeSignalsWriter,
    ThreatexchangeStateReader,
)
from safeguard.list_formats.vics import VicsReader
from safeguard.list_formats.vics_writer import VicsWriter

READER_ENTRY_POINTS = "safeguard.list_readers"
WRITER_ENTRY_POINTS = "safeguard.list_writers"

READERS: dict[str, ListReader] = {}
"""Readers by name, in detection order."""

WRITERS: dict[str, ListWriter] = {}
"""Writers by name."""

READER_ALIASES: dict[str, str] = {
    "csv": "delimited",
    "tsv": "delimited",
    "md5sum": "checksum-text",
    "sha1sum": "checksum-text",
    "vics-case": "vics",
    "md5deep": "checksum-text",
    "threatexchange": "te-signals",
}
"""Other names `reader_named` accepts: the writer names, so one name works both ways."""

_plugins_loaded = False


def register_reader(reader: ListReader, *, replace: bool = False) -> None:
    """Add a reader (detected after those already registered).

    Raises:
        ValueError: a reader of that name exists and `replace` is False.
    """
    if reader.name in READERS and not replace:
        raise ValueError(f"a list reader named {reader.name!r} is already registered")
    READERS[reader.name] = reader


def register_writer(writer: ListWriter, *, replace: bool = False) -> None:
    """Add a writer.

    Raises:
        ValueError: a writer of that name exists and `replace` is False.
    """
    if writer.name in WRITERS and not replace:
        raise ValueError(f"a list writer named {writer.name!r} is already registered")
    WRITERS[writer.name] = writer


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    # Imported on first use: reading package metadata costs start-up time of every command.
    from importlib.metadata import entry_points

    for group, register in (
        (READER_ENTRY_POINTS, register_reader),
        (WRITER_ENTRY_POINTS, register_writer),
    ):
        for point in entry_points(group=group):
            loaded = point.load()
            register(loaded() if isinstance(loaded, type) else loaded)


def reader_named(name: str) -> ListReader:
    """The reader registered as `name` (or named by an alias in `READER_ALIASES`).

    Raises:
        ListFormatError: no such reader (the message lists the known names).
    """
    _load_plugins()
    try:
        return READERS[name] if name in READERS else READERS[READER_ALIASES[name]]
    except KeyError:
        known = ", ".join(READERS)
        raise ListFormatError(name, None, f"no list reader of that name (known: {known})") from None


def writer_named(name: str) -> ListWriter:
    """The writer registered as `name`.

    Raises:
        ListFormatError: no such writer (the message lists the known names).
    """
    _load_plugins()
    try:
        return WRITERS[name]
    except KeyError:
        known = ", ".join(WRITERS)
        raise ListFormatError(name, None, f"no list writer of that name (known: {known})") from None


def detect_reader(path: Path) -> ListReader:
    """The reader for the file at `path`, chosen by its content (not its name).

    Raises:
        ListFormatError: the file cannot be read, is empty, or matches no known format.
    """
    _load_plugins()
    head = read_head(path)
    if not head.strip():
        raise ListFormatError(str(path), None, "the file is empty")
    for reader in READERS.values():
        if reader.detect(head, path):
            return reader
    raise ListFormatError(
        str(path),
        None,
        "not a hash-list format Safeguard knows "
        f"(tried {', '.join(READERS)}). A CSV/TSV needs a header row naming a digest column "
        "(md5, sha1, sha256, pdq, photodna); VICS JSON must name its data model in "
        "@odata.context or odata.metadata; hashdeep files start with '%%%% HASHDEEP-1.0'; "
        "threatexchange lines read '<signal type> <value>'.",
    )


register_reader(NsrlReader())
register_reader(HashdeepReader())
register_reader(VicsReader())
register_reader(JsonLinesReader())
register_reader(ThreatexchangeStateReader())
register_reader(DelimitedReader())
register_reader(ChecksumTextReader())
register_reader(ThreatexchangeSignalsReader())
# Chosen by name only: bare 64-digit values read as PDQ or as SHA-256, whatever they look like.
register_reader(ChecksumTextReader("pdq", bare_64=HashAlgorithm.PDQ, detects=False))
register_reader(ChecksumTextReader("sha256sum", bare_64=HashAlgorithm.SHA256, detects=False))

register_writer(VicsWriter())
register_writer(VicsWriter("US", as_case=True))
register_writer(DelimitedWriter())
register_writer(DelimitedWriter("\t"))
register_writer(HashdeepWriter())
register_writer(ThreatexchangeSignalsWriter())
for _algorithm in (HashAlgorithm.MD5, HashAlgorithm.SHA1, HashAlgorithm.SHA256):
    register_writer(ChecksumTextWriter(_algorithm))
