"""Energy today, derived from lifetime energy counters (pure).

Inverters report their lifetime AC energy (SunSpec ``WH``). The energy of a local day in
Europe/Berlin is the counter now minus the first counter seen that day::

    energy today = last total of the day - first total of the day      (never below 0)

Per inverter slot, serial and local day a :class:`DayState` keeps the earliest and the latest
reading that carried a counter. Readings may arrive late or out of order (an agent catching
up after an outage): an earlier reading becomes the new first, a later one the new last. After
a swap the slot has two serials that day, each with its own counter; the slot's energy is their
sum. A counter that went backwards (device reset) gives 0 rather than a negative day.

:class:`DayFold` is the one fold in Python (the ingest folds a batch with it before writing);
its SQL twin is the ``inverter_days`` upsert in ``telemetry/repository.py``, which merges a
batch's folds into the stored rows by the same two comparisons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from cloud_gateway.localdays import BERLIN

__all__ = [
    "BERLIN",
    "DayFold",
    "DayKey",
    "DayState",
    "LocalDays",
    "day_bounds",
    "day_wh",
    "local_day",
    "slot_energy",
]


@dataclass(frozen=True, slots=True)
class DayKey:
    """Which counter on which local day."""

    inverter_id: int
    serial: str
    day: date


@dataclass(frozen=True, slots=True, kw_only=True)
class DayState:
    """First and last counter reading of one serial in one slot on one local day."""

    first_at: datetime
    first_wh: float
    last_at: datetime
    last_wh: float
    last_power_w: float | None

    @property
    def energy_wh(self) -> float:
        """Energy of the day so far, Wh."""
        return day_wh(self.first_wh, self.last_wh)


def day_wh(first_wh: float, last_wh: float) -> float:
    """Energy of a day from its first and last counter, Wh (0 after a counter reset)."""
    return max(0.0, last_wh - first_wh)


def local_day(at: datetime) -> date:
    """The Europe/Berlin calendar day of an instant."""
    return at.astimezone(BERLIN).date()


class LocalDays:
    """:func:`local_day` for many instants, remembering the bounds of the last day found.

    Readings of one group mostly fall on one or two days; a hit is two comparisons instead of
    a time zone conversion.
    """

    __slots__ = ("_day", "_end", "_start")

    def __init__(self) -> None:
        self._start = self._end = datetime.min.replace(tzinfo=UTC)  # empty: the first call misses
        self._day = date.min

    def __call__(self, at: datetime) -> date:
        """The Europe/Berlin calendar day of ``at`` (an aware instant)."""
        if self._start <= at < self._end:
            return self._day
        day = local_day(at)
        start, end = day_bounds(day)
        # bounds in UTC: comparing instants of one tzinfo skips two utcoffset() calls
        self._start, self._end = start.astimezone(UTC), end.astimezone(UTC)
        self._day = day
        return day


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of ``day`` in Berlin and of the day after (23, 24 or 25 hours apart)."""
    start = datetime.combine(day, time(0), BERLIN)
    end = datetime.combine(day + timedelta(days=1), time(0), BERLIN)
    return start, end


class DayFold:
    """First and last counter reading of one serial on one local day, folded reading by reading.

    Mutable and slotted: the ingest folds every reading of a batch through it.
    """

    __slots__ = ("first_at", "first_wh", "last_at", "last_power_w", "last_wh")

    def __init__(self, at: datetime, wh: float, power_w: float | None) -> None:
        self.first_at = self.last_at = at
        self.first_wh = self.last_wh = wh
        self.last_power_w = power_w

    def add(self, at: datetime, wh: float, power_w: float | None) -> None:
        """One more reading: an earlier one becomes the first, a later (or equal) the last."""
        if at < self.first_at:
            self.first_at, self.first_wh = at, wh
        if at >= self.last_at:
            self.last_at, self.last_wh, self.last_power_w = at, wh, power_w

    def state(self) -> DayState:
        """The fold as the stored row's value."""
        return DayState(
            first_at=self.first_at,
            first_wh=self.first_wh,
            last_at=self.last_at,
            last_wh=self.last_wh,
            last_power_w=self.last_power_w,
        )

    def row(self) -> tuple[datetime, float, datetime, float, float | None]:
        """``(first_at, first_wh, last_at, last_wh, last_power_w)`` for the upsert."""
        return self.first_at, self.first_wh, self.last_at, self.last_wh, self.last_power_w


def slot_energy(states: Iterable[DayState]) -> float:
    """Energy of one slot on one day: the sum over the serials it held."""
    return sum(s.energy_wh for s in states)
