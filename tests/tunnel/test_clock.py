from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tunnel.clock import Clock, ManualClock, SystemClock


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert isinstance(SystemClock(), Clock)


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 3, 28, 23, 0, tzinfo=UTC))
    assert clock.now() == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    mono = clock.monotonic()
    clock.advance(timedelta(days=1, hours=2))
    assert clock.now() == datetime(2026, 3, 30, 1, 0, tzinfo=UTC)
    assert clock.monotonic() == mono + 26 * 3600


def test_manual_clock_refuses_going_back_and_naive_start() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2026, 1, 1))


async def test_wait_until_releases_when_time_reaches_instant() -> None:
    clock = ManualClock()
    target = clock.now() + timedelta(minutes=5)
    waiter = asyncio.create_task(clock.wait_until(target))
    clock.advance(timedelta(minutes=4))
    await asyncio.sleep(0)
    assert not waiter.done()
    clock.advance(timedelta(minutes=1))
    await asyncio.wait_for(waiter, 1)
    assert waiter.done()


async def test_sleepers_returns_once_a_loop_has_finished_its_round_and_sleeps() -> None:
    clock = ManualClock()
    rounds: list[datetime] = []
    step = asyncio.Event()

    async def loop() -> None:
        while True:
            await step.wait()  # a round's work, which takes unknown loop turns
            rounds.append(clock.now())
            await clock.sleep_until(clock.now() + timedelta(minutes=5))

    task = asyncio.create_task(loop())
    sleeping = asyncio.create_task(clock.sleepers())
    await asyncio.sleep(0)
    assert not sleeping.done()  # the loop has not slept yet
    step.set()
    await asyncio.wait_for(sleeping, 1)
    assert len(rounds) == 1
    clock.advance(timedelta(minutes=5))  # wakes it; the next sleep is the second round's
    await asyncio.wait_for(clock.sleepers(), 1)
    assert len(rounds) == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
