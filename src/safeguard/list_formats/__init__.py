"""Hash-list formats: readers, writers and content-based detection.

Callers use `detect_reader`, `reader_named`, `writer_named` and `NsrlDatabase`; see
`safeguard.list_formats.contract` for the reader and writer contract.
"""

from safeguard.list_formats.contract import (
    ErrorPolicy,
    ListMetadata,
    ListReader,
    ListWriter,
    ParsedList,
    ReadReport,
    derived_entry_id,
)
from safeguard.list_formats.nsrl import NsrlDatabase
from safeguard.list_formats.registry import (
    READERS,
    WRITERS,
    detect_reader,
    reader_named,
    register_reader,
    register_writer,
    writer_named,
)

__all__ = [
    "READERS",
    "WRITERS",
    "ErrorPolicy",
    "ListMetadata",
    "ListReader",
    "ListWriter",
    "NsrlDatabase",
    "ParsedList",
    "ReadReport",
    "derived_entry_id",
    "detect_reader",
    "reader_named",
    "register_reader",
    "register_writer",
    "writer_named",
]
