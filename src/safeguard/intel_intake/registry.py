"""The referral readers Safeguard knows, by name, and detection of a file's format.

Built-in readers are registered with the same `register_reader` call a plugin uses;
third-party packages add more through the entry-point group ``safeguard.referral_readers``
(each entry point loads to a reader instance or a zero-argument class), loaded on first use.
Detection asks readers in registration order.
"""

from __future__ import annotations

from pathlib import Path

from safeguard.domain.errors import InputError
from safeguard.intel_intake.contract import ReferralReader, read_head
from safeguard.intel_intake.cybertipline_json import CyberTiplineJsonReader
from safeguard.intel_intake.cybertipline_xml import CyberTiplineXmlReader

READER_ENTRY_POINTS = "safeguard.referral_readers"

READERS: dict[str, ReferralReader] = {}
"""Readers by name, in detection order."""

_plugins_loaded = False


def register_reader(reader: ReferralReader, *, replace: bool = False) -> None:
    """Add a reader (detected after those already registered).

    Raises:
        ValueError: a reader of that name exists and `replace` is False.
    """
    if reader.name in READERS and not replace:
        raise ValueError(f"a referral reader named {reader.name!r} is already registered")
    READERS[reader.name] = reader


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    # Imported on first use: reading package metadata costs start-up time of every command.
    from importlib.metadata import entry_points

    for point in entry_points(group=READER_ENTRY_POINTS):
        loaded = point.load()
        register_reader(loaded() if isinstance(loaded, type) else loaded)


def reader_named(name: str) -> ReferralReader:
    """The reader registered as `name`.

    Raises:
        InputError: no such reader (the message lists the known names).
    """
    _load_plugins()
    try:
        return READERS[name]
    except KeyError:
        known = ", ".join(READERS)
        raise InputError(f"no referral reader named {name!r} (known: {known})") from None


def detect_reader(path: Path) -> ReferralReader:
    """The reader for the file at `path`, chosen by its content.

    Raises:
        InputError: the file is empty, unreadable or in no known format.
    """
    _load_plugins()
    head = read_head(path)
    if not head.strip():
        raise InputError(f"{path}: empty or unreadable")
    for reader in READERS.values():
        if reader.detect(head, path):
            return reader
    raise InputError(
        f"{path}: not a referral format Safeguard knows (tried {', '.join(READERS)}); "
        "CyberTipline XML needs a <report> element, JSON an incidentSummary or reports key"
    )


register_reader(CyberTiplineXmlReader())
register_reader(CyberTiplineJsonReader())
