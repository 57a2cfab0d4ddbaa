"""The contract every referral reader meets.

A reader turns one file into a stream of items: a `Referral` for each report it could
read, or a `Refusal` naming the file, the element and the reason for each it could not.
A bad report never stops the reader; a file that cannot be read at all gives one refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.referrals import Referral

HEAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Refusal:
    """A report that was not taken in, and why.

    Attributes:
        source: the file (or other source label).
        element: where in it, e.g. ``report[3]/personOrUserReported/ipCaptureEvent[1]/dateTime``.
        reason: what is wrong, in words a person can act on.
    """

    source: str
    element: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.element}" if self.element else self.source
        return f"{where}: {self.reason}"


ReadItem = Referral | Refusal


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What a reader is told besides the file.

    Attributes:
        received_at: when the referrals are taken in (their `received_at`).
        grading: the grading given to referrals that carry none.
        default_region: ISO country code for phone numbers written without one.
    """

    received_at: datetime
    grading: Grading = field(default_factory=Grading)
    default_region: str = "GB"


class ReferralReader(Protocol):
    """Reads one kind of referral file."""

    name: str
    """Registry name, e.g. ``cybertipline-xml``."""

    def detect(self, head: bytes, path: Path) -> bool:
        """True when the file's first bytes look like this reader's format."""
        ...

    def read(self, path: Path, options: ReadOptions) -> Iterator[ReadItem]:
        """Every report in the file, as a referral or a refusal, in file order."""
        ...


def read_head(path: Path) -> bytes:
    """The first bytes of a file (empty when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""
