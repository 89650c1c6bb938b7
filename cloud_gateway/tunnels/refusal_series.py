"""Tunnel refusals by reason over time: hourly buckets of the last day, in memory (pure).

Each node counts its own refusals (the registry records every REFUSE it sends); the console
shows the last 24 hours per reason and ``/metrics`` the 24-hour sums. A restart starts
empty; the Prometheus counter ``cloudconnector_tunnel_refusals_total`` keeps the long view.
Memory is bounded: at most ``hours`` buckets of one counter per reason seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["HourBar", "ReasonRow", "RefusalSeries"]

_HOUR = timedelta(hours=1)


def _hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class HourBar:
    """One hour of one reason."""

    start: datetime
    """The hour's first instant (UTC)."""
    count: int


@dataclass(frozen=True, slots=True)
class ReasonRow:
    """One reason's last hours, oldest first, with their sum."""

    reason: str
    hours: tuple[HourBar, ...]
    total: int


class RefusalSeries:
    """Refusal counts per reason and hour for the last ``hours`` hours."""

    def __init__(self, hours: int = 24) -> None:
        if hours < 1:
            raise ValueError("hours must be at least 1")
        self.hours = hours
        self._buckets: dict[datetime, Counter[str]] = {}

    def record(self, reason: str, at: datetime) -> None:
        """One refusal for ``reason`` at ``at`` (aware)."""
        hour = _hour_of(at)
        self._buckets.setdefault(hour, Counter())[reason] += 1
        oldest = hour - (self.hours - 1) * _HOUR
        for stale in [h for h in self._buckets if h < oldest]:
            del self._buckets[stale]

    def rows(self, now: datetime) -> list[ReasonRow]:
        """Every reason refused within the last ``hours`` hours up to ``now``, by name; each
        with one bar per hour (zero where none), the current hour last."""
        current = _hour_of(now)
        starts = [current - i * _HOUR for i in range(self.hours - 1, -1, -1)]
        window = {h: self._buckets.get(h, Counter()) for h in starts}
        reasons = sorted({r for counts in window.values() for r, n in counts.items() if n})
        rows = []
        for reason in reasons:
            bars = tuple(HourBar(h, window[h][reason]) for h in starts)
            rows.append(ReasonRow(reason, bars, sum(b.count for b in bars)))
        return rows
