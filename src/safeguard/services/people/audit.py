"""What people-and-access services write their audit lines through."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol


class AuditSink(Protocol):
    """Appends one line to the audit log (`CaseService.audit` fits)."""

    def __call__(
        self,
        actor: str,
        action: str,
        *,
        case_id: int | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> object:
        """Append the line; `detail` holds no secrets."""
        ...


Clock = Callable[[], datetime]
