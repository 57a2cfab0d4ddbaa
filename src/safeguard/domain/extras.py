"""Optional engines and the extra that installs each, imported only where they are used.

The base install (``pip install safeguard``) hashes and matches files and folders, and
writes reports. Disk images, E01 sets, 7z and RAR archives need the ``forensics`` extra,
video frames the ``video`` extra; without them those items become errors that name the
extra to install, and everything else is scanned as usual.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from safeguard.domain.errors import MissingExtraError


def import_extra(module: str, extra: str, needed_for: str) -> ModuleType:
    """Import the optional `module`, or say which extra installs it.

    Args:
        module: the module's import name (``pytsk3``, ``pyewf``, ``av``...).
        extra: the Safeguard extra that installs it (``forensics``, ``video``...).
        needed_for: what needs it, for the message (``"disk images"``).

    Raises:
        MissingExtraError: the module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module.split(".")[0]:
            raise
        raise MissingExtraError(
            f"{needed_for}: not available without the optional '{extra}' extra "
            f"(pip install 'safeguard[{extra}]', or uv sync --extra {extra})"
        ) from exc
