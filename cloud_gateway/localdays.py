"""Licence and billing days: local calendar dates in Europe/Berlin (pure).

A window of ``n`` days that starts at an instant covers the rest of its first local day for free
and then ``n`` whole local days; it ends at local midnight. A window that starts exactly at local
midnight (for instance a package that follows a trial) covers exactly ``n`` days. Midnights are
computed on the local calendar, so a day across a DST change is 23 or 25 hours long.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "BERLIN",
    "days_end",
    "first_full_day",
    "last_day",
    "local_date",
    "local_instant",
    "local_midnight",
]

BERLIN = ZoneInfo("Europe/Berlin")


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given where an instant is needed")
    return at


def local_date(at: datetime) -> date:
    """The Berlin calendar date of instant ``at``."""
    return _aware(at).astimezone(BERLIN).date()


def local_instant(day: date, at: time = time(0)) -> datetime:
    """The UTC instant of local wall time ``at`` on ``day`` (first occurrence on a fold)."""
    return datetime.combine(day, at, tzinfo=BERLIN).astimezone(UTC)


def local_midnight(day: date) -> datetime:
    """The UTC instant at which local ``day`` begins."""
    return local_instant(day)


def first_full_day(at: datetime) -> date:
    """The first local day that starts at or after ``at``."""
    day = local_date(at)
    return day if local_midnight(day) == _aware(at) else day + timedelta(days=1)


def days_end(start: datetime, days: int) -> datetime:
    """The end of a window of ``days`` local days beginning at ``start``."""
    if days < 0:
        raise ValueError("a window cannot have a negative number of days")
    return local_midnight(first_full_day(start) + timedelta(days=days))


def last_day(end: datetime) -> date:
    """The last local day on which a window ending at ``end`` still gives access."""
    return local_date(_aware(end) - timedelta(microseconds=1))
