"""The injected clock.

Domain code never reads the wall clock directly: it is handed a :class:`Clock`.
Production code gets :class:`SystemClock`; tests get :class:`ManualClock` and
travel in time with :meth:`ManualClock.advance`.

``now()`` is an aware UTC ``datetime`` for instants that are stored or shown;
``monotonic()`` is for measuring durations and never jumps backwards.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What domain services may ask about time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards, for durations."""
        ...

    async def sleep_until(self, instant: datetime) -> None:
        """Return once ``now()`` has reached ``instant`` (for scheduled domain events)."""
        ...


class SystemClock:
    """The real clock."""

    __slots__ = ()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep_until(self, instant: datetime) -> None:
        # Sleep in slices so a wall-clock step (NTP) is noticed within a minute.
        while (remaining := (instant - self.now()).total_seconds()) > 0:  # noqa: ASYNC110 - waiting on the wall clock itself
            await asyncio.sleep(min(remaining, 60.0))


class ManualClock:
    """A clock that only moves when told to; for tests and simulations.

    Waiters registered with :meth:`wait_until` are released as soon as
    :meth:`advance` or :meth:`set` moves the clock to or past their instant.
    """

    __slots__ = ("_monotonic", "_now", "_parked", "_waiters")

    def __init__(self, start: datetime | None = None) -> None:
        if start is None:
            start = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start instant")
        self._now = start.astimezone(UTC)
        self._monotonic = 1000.0
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []
        self._parked: asyncio.Event | None = None

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, delta: timedelta | float) -> datetime:
        """Move the clock forward by ``delta`` (seconds or a timedelta)."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += delta
        self._monotonic += delta.total_seconds()
        self._release()
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` (must not be earlier than now)."""
        return self.advance(instant.astimezone(UTC) - self._now)

    async def sleep_until(self, instant: datetime) -> None:
        """Return once the test has moved the clock to or past ``instant``."""
        await self.wait_until(instant)

    async def wait_until(self, instant: datetime) -> None:
        """Return once the clock has reached ``instant``."""
        if instant <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((instant, future))
        if self._parked is not None:
            self._parked.set()
        try:
            await future
        finally:
            self._waiters = [(t, f) for t, f in self._waiters if f is not future]

    async def sleepers(self, count: int = 1) -> None:
        """Return once at least ``count`` tasks wait on this clock: a test's point of
        synchronisation with a background loop that has finished a round and sleeps."""
        while sum(not future.done() for _, future in self._waiters) < count:
            self._parked = asyncio.Event()
            await self._parked.wait()

    def _release(self) -> None:
        for instant, future in self._waiters:
            if instant <= self._now and not future.done():
                future.set_result(None)
