"""Time zone conversions. The database holds UTC; people type and read their call's local time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Almaty"


def local_to_utc(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """A wall-clock time typed in a form (naive) in zone ``tz`` → aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)


def utc_to_local(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Aware UTC → aware local time in ``tz`` (for forms and countdowns)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(tz))


def utc_to_local_naive(value: datetime | None, tz: str = DEFAULT_TZ) -> datetime | None:
    """For pre-filling ``datetime-local`` inputs."""
    return None if value is None else utc_to_local(value, tz).replace(tzinfo=None)
