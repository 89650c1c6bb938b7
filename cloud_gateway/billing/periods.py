"""Contract periods as local days in Europe/Berlin (pure).

A period of *n* months that starts on day *d* ends on the day before day *d* of the month
*n* months later; when that month has no day *d* (a start on the 29th-31st), it ends on that
month's last day (BGB § 188 (2), (3)). Periods are anchored on the contract start, so they never
drift: a contract from 31 January runs 31 Jan-28 Feb, 1 Mar-30 Mar, 31 Mar-30 Apr, ...
Day periods are plain runs of *n* days. A local day starts at 00:00 Berlin time, whose UTC
instant moves with daylight saving time (``local_midnight``, shared with the entitlements).
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import date, timedelta

from cloud_gateway.billing.catalogue import PeriodUnit
from cloud_gateway.localdays import local_date, local_midnight

__all__ = ["Period", "local_date", "local_midnight", "period", "period_index"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """One contract period: ``first`` to ``last``, both inclusive local days."""

    index: int
    first: date
    last: date


def _months_later(start: date, months: int) -> tuple[int, int]:
    total = start.year * 12 + start.month - 1 + months
    return total // 12, total % 12 + 1


def _month_end(start: date, months: int) -> date:
    """Last day of the period ending ``months`` after ``start``."""
    year, month = _months_later(start, months)
    days = calendar.monthrange(year, month)[1]
    if start.day > days:
        return date(year, month, days)
    return date(year, month, start.day) - timedelta(days=1)


@functools.lru_cache(maxsize=65536)
def period(start: date, index: int, unit: PeriodUnit, length: int) -> Period:
    """The ``index``-th period (0-based) of a contract starting on ``start``."""
    if index < 0:
        raise ValueError("period index must be >= 0")
    if unit is PeriodUnit.DAY:
        first = start + timedelta(days=index * length)
        return Period(index=index, first=first, last=first + timedelta(days=length - 1))
    first = start if index == 0 else _month_end(start, index * length) + timedelta(days=1)
    return Period(index=index, first=first, last=_month_end(start, (index + 1) * length))


def period_index(start: date, day: date, unit: PeriodUnit, length: int) -> int | None:
    """Index of the period containing ``day``, ``None`` before the start."""
    if day < start:
        return None
    if unit is PeriodUnit.DAY:
        return (day - start).days // length
    months = (day.year - start.year) * 12 + day.month - start.month
    guess = max(0, months // length - 1)
    while period(start, guess, unit, length).last < day:
        guess += 1
    return guess
