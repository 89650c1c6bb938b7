"""Telemetry from the outbox to the gateway: send, wait for the ACK, only then delete.

::

    Outbox ──batch()──► Uplink ──send(seq, payload)──► TelemetryChannel ══ TELEMETRY(seq) ══►
      ▲                   │                                                         gateway
      └──── ack({seq}) ◄──┴── the ACK future resolves ◄═══════ ACK(seq), after its commit ══

One TELEMETRY frame carries one outbox entry, with the entry's outbox sequence number as the
frame's sequence (the gateway deduplicates on (device, seq), see docs/telemetry.md,
"Transport"). Up to ``max_in_flight`` frames travel unacknowledged, so the round trip and the
gateway's commit overlap with sending. An entry is deleted only after its ACK arrived; when the
channel ends (reconnect), every entry not yet acknowledged is sent again on the next channel.

The uplink depends on two narrow protocols, :class:`TelemetryChannel` (one connected session)
and :class:`ChannelSource` (waits for the next one); :mod:`inverter_agent.tunnel_link` adapts
the tunnel's :class:`~tunnel.device_end.DeviceSession` and connector to them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Protocol

from inverter_agent.crashpoints import CrashPoint, reached
from inverter_agent.errors import AgentError
from inverter_agent.outbox import Outbox
from tunnel.tasks import run_together

__all__ = ["ChannelSource", "TelemetryChannel", "Uplink", "UplinkClosedError"]

_LOGGER = logging.getLogger(__name__)

_FETCH = 64
"""Entries fetched from the outbox beyond those in flight, per look."""


class UplinkClosedError(AgentError, ConnectionError):
    """The channel ended before the gateway acknowledged what was sent."""


class TelemetryChannel(Protocol):
    """One connected session to the gateway that carries TELEMETRY and brings back ACKs."""

    async def send(self, seq: int, payload: bytes) -> asyncio.Future[None]:
        """Queue TELEMETRY(``seq``); the future resolves when ACK(``seq``) arrives.

        Raises :class:`UplinkClosedError` when the channel has ended; the future fails with a
        :class:`ConnectionError` when the channel ends before the ACK.
        """
        ...


class ChannelSource(Protocol):
    """Where channels come from (the tunnel connector, reconnecting behind the scenes)."""

    async def wait_channel(self) -> TelemetryChannel:
        """The next usable channel; waits while there is none."""
        ...


class Uplink:
    """Drains an :class:`Outbox` through channels from a :class:`ChannelSource`."""

    def __init__(
        self, outbox: Outbox, source: ChannelSource, *, max_in_flight: int = 8, name: str = "uplink"
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._outbox = outbox
        self._source = source
        self._max_in_flight = max_in_flight
        self._name = name
        self._new_entries = asyncio.Event()
        self._progress = asyncio.Event()
        self.acked_up_to = 0
        """The highest sequence number acknowledged so far (0: none yet)."""
        self.sent_total = 0
        """TELEMETRY frames sent, resends included."""
        self.acked_total = 0
        """Entries acknowledged and deleted."""

    def notify(self) -> None:
        """New entries are in the outbox (called by the sink after its commit)."""
        self._new_entries.set()

    async def wait_acked(self, seq: int) -> None:
        """Wait until every entry up to ``seq`` is acknowledged (or was dropped)."""
        while self.acked_up_to < seq:
            self._progress.clear()
            await self._progress.wait()

    async def run(self) -> None:
        """Send and resend forever, one channel after the other; cancel to stop."""
        while True:
            channel = await self._source.wait_channel()
            try:
                await self._serve(channel)
            except ConnectionError as exc:
                _LOGGER.info("%s: channel ended: %s", self._name, exc)

    async def _serve(self, channel: TelemetryChannel) -> None:
        """Send and take ACKs on one channel until it ends (raises why).

        :func:`~tunnel.tasks.run_together`, not a TaskGroup: on Python 3.11 a TaskGroup whose
        own task is cancelled just as a child fails raises the child's error instead of
        CancelledError; :meth:`run` then took the agent's stop for a channel that ended and
        waited for the next channel for ever.
        """
        window = _Window(self._max_in_flight)
        await run_together(
            self._send_loop(channel, window), self._ack_loop(window), name=self._name
        )
        raise AssertionError(f"{self._name}: the send and ACK loops returned")

    async def _send_loop(self, channel: TelemetryChannel, window: _Window) -> None:
        last_sent = 0
        while True:
            self._new_entries.clear()
            entries = await self._outbox.batch(self._max_in_flight + _FETCH)
            fresh = [e for e in entries if e.seq > last_sent]
            if not fresh:
                await self._new_entries.wait()
                continue
            for entry in fresh:
                await window.room.acquire()
                try:
                    ack = await channel.send(entry.seq, entry.payload)
                except BaseException:
                    window.room.release()
                    raise
                reached(CrashPoint.SEND)
                last_sent = entry.seq
                self.sent_total += 1
                window.push(entry.seq, ack)

    async def _ack_loop(self, window: _Window) -> None:
        while True:
            await window.oldest_settled()
            done = window.pop_acknowledged()  # raises when the oldest failed: channel ended
            reached(CrashPoint.ACK)
            await self._outbox.ack(done)
            for _ in done:
                window.room.release()
            self.acked_total += len(done)
            self.acked_up_to = max(self.acked_up_to, *done)
            self._progress.set()


class _Window:
    """The frames in flight on one channel, oldest first, and the room for more."""

    def __init__(self, size: int) -> None:
        self.room = asyncio.Semaphore(size)
        self._frames: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._pushed = asyncio.Event()

    def push(self, seq: int, ack: asyncio.Future[None]) -> None:
        self._frames.append((seq, ack))
        self._pushed.set()

    async def oldest_settled(self) -> None:
        """Wait until the oldest frame in flight has its ACK (or failed)."""
        while not self._frames:
            self._pushed.clear()
            await self._pushed.wait()
        await asyncio.wait([self._frames[0][1]])

    def pop_acknowledged(self) -> list[int]:
        """Remove the leading acknowledged frames; their sequence numbers (at least one).

        Raises the oldest frame's error when it failed.
        """
        done: list[int] = []
        while self._frames and self._frames[0][1].done():
            seq, ack = self._frames[0]
            if ack.cancelled() or ack.exception() is not None:
                if done:
                    break
                error = None if ack.cancelled() else ack.exception()
                raise UplinkClosedError(f"no ACK for {seq}: {error or 'cancelled'}") from error
            self._frames.popleft()
            done.append(seq)
        return done
