"""The service's time: every timestamp it stores is a naive UTC datetime to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as the naive UTC datetime every timestamp column holds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp column's value: SQLite hands back text, PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
