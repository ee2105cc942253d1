"""The station's clock face: storage is UTC, everything a person reads or types is station-local.

Pure functions over a zone (a ZoneInfo or its name); `now` and the zone are arguments, never
read from a global. The one date parser for every field an officer types (bulletin validity,
log filters, timetable files and forms) lives here too, so they all accept and refuse the same.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from .exceptions import InputError

DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; everything we store is UTC (here, not in db: a pure time
    helper, so the clock face and the CLI's tables need no database library)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def as_zone(value: ZoneInfo | str) -> ZoneInfo:
    """A zone from a ZoneInfo or its name (settings hold the name)."""
    return value if isinstance(value, ZoneInfo) else ZoneInfo(value)


def local_midnight_utc(day: date, tz: ZoneInfo | str) -> datetime:
    """The UTC instant a station-local day starts."""
    return datetime.combine(day, time(0), tzinfo=as_zone(tz)).astimezone(timezone.utc)


def to_local(value: datetime | None, tz: ZoneInfo | str) -> datetime | None:
    """A stored (UTC, maybe naive) time in the station's zone."""
    value = as_utc(value)
    return value.astimezone(as_zone(tz)) if value is not None else None


def fmt_local(value: datetime | None, tz: ZoneInfo | str, pattern: str = "%d/%m/%Y %H:%M:%S") -> str:
    """A stored time as the station reads it ('' when there is none)."""
    local = to_local(value, tz)
    return local.strftime(pattern) if local is not None else ""


def fmt_minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal, Vietnamese decimal comma ('12,5')."""
    return f"{(seconds or 0.0) / 60:.1f}".replace(".", ",")


def parse_day(value: str | None, what: str) -> date | None:
    """A date typed by an officer (YYYY-MM-DD or DD/MM/YYYY; empty = none); InputError names the field."""
    value = (value or "").strip()
    if not value:
        return None
    for pattern in DAY_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise InputError(f"{what}: ngày '{value}' không hợp lệ (dùng DD/MM/YYYY hoặc YYYY-MM-DD)")


__all__ = ["as_utc", "as_zone", "local_midnight_utc", "to_local", "fmt_local", "fmt_minutes", "parse_day", "DAY_FORMATS"]


def duration_words(seconds: float | None) -> str:
    """A length as an officer says it: "23 phút 48 giây", "45 giây", "1 giờ 2 phút 5 giây" ("?" unknown)."""
    if seconds is None:
        return "?"
    total = max(0, int(round(seconds)))
    hours, minutes, secs = total // 3600, total // 60 % 60, total % 60
    parts = [f"{hours} giờ"] if hours else []
    if minutes or (hours and secs):
        parts.append(f"{minutes} phút")
    if secs or not parts:
        parts.append(f"{secs} giây")
    return " ".join(parts)
