"""run_together: all return, the first error ends the rest, the caller's cancel stays a cancel."""

from __future__ import annotations

import asyncio

import pytest

from tunnel.tasks import run_together


async def test_returns_when_every_coroutine_has_returned() -> None:
    finished: list[str] = []

    async def step(name: str, turns: int) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)
        finished.append(name)

    await run_together(step("slow", 5), step("quick", 1))

    assert finished == ["quick", "slow"]


async def test_the_first_error_cancels_the_others_and_is_raised_as_itself() -> None:
    other_cancelled = asyncio.Event()
    failing = asyncio.Event()

    async def waits() -> None:
        try:
            failing.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            other_cancelled.set()
            raise

    async def fails() -> None:
        await failing.wait()
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError, match="peer went away"):
        await run_together(waits(), fails())

    assert other_cancelled.is_set()


async def test_a_task_cancelled_on_its_own_counts_as_returned() -> None:
    async def cancels_itself() -> None:
        raise asyncio.CancelledError

    async def returns() -> None:
        await asyncio.sleep(0)

    await run_together(cancels_itself(), returns())


async def test_cancelling_the_caller_raises_cancelled_even_when_a_task_fails_meanwhile() -> None:
    # The Python 3.11 TaskGroup gap: a copy loop whose peer resets while it is being
    # cancelled raises ConnectionError; a TaskGroup then raises that instead of the cancel,
    # and a caller's `except* ConnectionError` swallowed the stop.
    started = asyncio.Event()
    child_failed = asyncio.Event()

    async def fails_when_cancelled() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            child_failed.set()
            raise ConnectionResetError("reset during cancel") from None

    async def caller() -> str:
        try:
            await run_together(fails_when_cancelled(), asyncio.Event().wait())
        except ConnectionError:
            return "swallowed"
        return "returned"

    task = asyncio.create_task(caller())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert child_failed.is_set()
