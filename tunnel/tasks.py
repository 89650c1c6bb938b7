"""Run a few coroutines side by side and keep the caller's cancellation intact.

:func:`run_together` is what ``async with asyncio.TaskGroup()`` does for two or three copy
loops (a relay's up and down direction, an uplink's send and ACK loop), without TaskGroup's
gap on Python 3.11: when the task that owns the group is cancelled just as a child fails
(a copy loop raising ``ConnectionError`` because its peer went away while it was being
cancelled), the group raises the child's error in an ``ExceptionGroup`` instead of
``CancelledError``. A caller that handles that error (``except* ConnectionError``) then
swallows its own cancellation: a stopping node waits for a task that carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


async def run_together(*coros: Coroutine[Any, Any, object], name: str = "") -> None:
    """Run ``coros`` as tasks until all return; the first error cancels the others.

    Raises the first error a task raised (not an ``ExceptionGroup``; errors of the others
    while they were being cancelled are dropped). A task that was cancelled on its own counts
    as returned, as in a TaskGroup. Cancelling the caller cancels every task, waits for them
    and raises ``CancelledError``, whatever the tasks raised meanwhile.
    """
    tasks = [
        asyncio.create_task(coro, name=f"{name} {index}" if name else None)
        for index, coro in enumerate(coros)
    ]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if task in done and not task.cancelled() and (error := task.exception()) is not None:
            raise error
