"""Window and day energy of an inverter from its lifetime counter readings (pure).

What :class:`~cloud_gateway.monitoring.alert_rules.InverterRound` needs, derived the way the
rules expect it. A counter only tells the energy between two readings, so:

* window energy = counter now minus the counter read at the window's start; ``None`` when the
  readings do not cover the window: silent since its start, or a gap of more than ``gap`` at
  its start (the first counter after an outage holds energy from before the window, and
  would make the inverter look like the plant's best);
* day energy = counter now minus the day's first counter (as the telemetry store defines
  "energy today"); ``None`` when the inverter was not yet watched at the day's start.

A database shell computes the same with one query per round; this module is for the
in-memory path and the reference the tests hold a shell to.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["DEFAULT_GAP", "CounterReading", "day_energy", "window_energy"]

DEFAULT_GAP = timedelta(minutes=2)
"""Largest distance of a reading from the window's start that still counts as "at" it."""


@dataclass(frozen=True, slots=True)
class CounterReading:
    """One reading of the lifetime AC energy counter."""

    at: datetime
    wh: float


def _at(reading: CounterReading) -> datetime:
    return reading.at


def window_energy(
    readings: Sequence[CounterReading], start: datetime, *, gap: timedelta = DEFAULT_GAP
) -> float | None:
    """Energy from ``start`` to the newest reading (``readings`` sorted by instant)."""
    after = bisect_right(readings, start, key=_at)  # readings[:after] are at or before start
    if after == len(readings):
        return None
    if after and readings[after - 1].at >= start - gap:
        base = readings[after - 1]
    elif readings[after].at <= start + gap:
        base = readings[after]
    else:
        return None
    return readings[-1].wh - base.wh


def day_energy(
    readings: Sequence[CounterReading], midnight: datetime, *, watched_since: datetime
) -> float | None:
    """Energy of the local day starting at ``midnight`` up to the newest reading."""
    if watched_since > midnight:
        return None
    first = bisect_left(readings, midnight, key=_at)
    if first == len(readings):
        return 0.0
    return readings[-1].wh - readings[first].wh
