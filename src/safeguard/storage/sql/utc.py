"""Datetimes read back from the stores: always timezone-aware UTC.

SQLite hands back naive datetimes for ``DateTime(timezone=True)`` columns; everything the
stores write is UTC, so a naive value read back is UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def aware(value: datetime | None) -> datetime | None:
    """`value` as a UTC-aware datetime (None stays None)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def required(value: datetime | None) -> datetime:
    """`aware` for a column that is never NULL."""
    result = aware(value)
    assert result is not None
    return result
