"""The inbound worker of a tunnel session: TELEMETRY, ACK and CONTROL frames in order.

The reader (or a push transport's ``data_received``) hands these frames to
:class:`InboundQueue`; one worker task runs the session's callback for each in turn, started
when the first frame arrives and ended when the queue is empty. At ``limit`` queued frames
the queue says "full": the reader awaits :meth:`InboundQueue.has_room`, a push transport is
paused until the worker has taken frames again.

The worker is started through the session's ``spawn``, which makes no coroutine once the
session's task group takes no more tasks (a frame that arrives while the group shuts down
stays queued and is dropped with the session; its sender gets no ACK and sends it again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from tunnel.frames import Ack, Control, Telemetry
from tunnel.transport import PushTransport

__all__ = ["InboundFrame", "InboundQueue", "Spawn"]

InboundFrame = Telemetry | Ack | Control
#: start a task for the coroutine ``make()`` makes, named ``name``; None if none was started
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]], str], "asyncio.Task[None] | None"]


class InboundQueue:
    """Frames waiting for the inbound worker, and the worker itself."""

    __slots__ = ("_frames", "_limit", "_name", "_paused", "_process", "_push", "_room", "worker")

    def __init__(
        self,
        *,
        limit: int,
        process: Callable[[InboundFrame], Awaitable[None]],
        push: PushTransport | None,
        name: str,
    ) -> None:
        self._frames: list[InboundFrame] = []
        self._limit = limit
        self._process = process
        self._push = push
        self._name = name
        self._room: asyncio.Future[None] | None = None
        self._paused = False  # the push transport stopped reading for the worker
        #: the running worker task, if any
        self.worker: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: InboundFrame, spawn: Spawn) -> bool:
        """Queue ``frame`` for the worker; True once the queue is full (stop reading)."""
        self._frames.append(frame)
        if self.worker is None:
            self.worker = spawn(self._work, f"{self._name} in")
        return len(self._frames) >= self._limit

    def pause_push(self) -> None:
        """The queue is full: a push transport stops reading until the worker catches up."""
        if self._push is not None:
            self._paused = True
            self._push.pause_receiving()

    async def has_room(self) -> None:
        """Wait until the worker has taken the queue below its limit."""
        while len(self._frames) >= self._limit:
            self._room = asyncio.get_running_loop().create_future()
            await self._room

    async def _work(self) -> None:
        try:
            while self._frames:
                frame = self._frames.pop(0)
                if len(self._frames) < self._limit:
                    if self._room is not None and not self._room.done():
                        self._room.set_result(None)
                    if self._paused and self._push is not None:
                        self._paused = False
                        self._push.resume_receiving()
                await self._process(frame)
        finally:
            self.worker = None
