"""Sun-up intervals of a plant and the time the sun was up between two instants (pure).

The "no data" alert (R-MON-17) counts silence only while the sun is up at the plant, so
nights and winter mornings never alert. :mod:`.forecast` computes the intervals with pvlib
(sunrise and sunset with standard refraction, -0.833 degrees); this module only measures
overlaps, so the alert round needs neither pvlib nor pandas.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Daylight", "SunUp", "sun_up_at", "sun_up_seconds"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SunUp:
    """One interval with the sun above the horizon, aware UTC instants, ``start < end``."""

    start: datetime
    """Sunrise (or the local midnight starting a polar day)."""
    end: datetime
    """Sunset (or the local midnight ending a polar day)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Daylight:
    """Sun-up intervals of one plant, sorted and disjoint, covering the days the shell chose.

    Silence before the first interval's day is not counted: the shell passes enough days
    (a week is plenty for any alert period an owner sets).
    """

    intervals: tuple[SunUp, ...]

    def __post_init__(self) -> None:
        for before, after in zip(self.intervals, self.intervals[1:], strict=False):
            if after.start < before.end:
                raise ValueError("daylight intervals must be sorted and disjoint")


def _index_after(intervals: Sequence[SunUp], instant: datetime) -> int:
    """Index of the first interval starting after ``instant``."""
    return bisect_right(intervals, instant, key=_start)


def _start(interval: SunUp) -> datetime:
    return interval.start


def sun_up_at(daylight: Daylight, instant: datetime) -> bool:
    """Whether the sun is up at ``instant``."""
    index = _index_after(daylight.intervals, instant) - 1
    return index >= 0 and instant < daylight.intervals[index].end


def sun_up_seconds(daylight: Daylight, since: datetime, until: datetime) -> float:
    """Seconds between ``since`` and ``until`` during which the sun was up."""
    if until <= since:
        return 0.0
    intervals = daylight.intervals
    total = 0.0
    index = _index_after(intervals, until) - 1
    while index >= 0:
        interval = intervals[index]
        if interval.end <= since:
            break
        start = max(interval.start, since)
        end = min(interval.end, until)
        if end > start:
            total += (end - start).total_seconds()
        index -= 1
    return total
