"""The tunnel connector as the dashboard sees it, and CCU events forwarded as telemetry.

Telemetry payload (one TELEMETRY frame, JSON)::

    {"kind": "ccu_events", "events": [{"interface": "http://127.0.0.1:2010/",
      "address": "000A18A9A64DAD:1", "key": "ACTUAL_TEMPERATURE", "value": 19.5,
      "at": "2026-01-15T09:00:00+00:00"}]}

Events wait in a bounded queue in RAM (never on flash); when it is full the oldest go.
A batch is taken off the queue only after the gateway's ACK.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

from ccu_addon.events import CcuEvent
from ccu_addon.status import Refusal, TunnelState, TunnelStatus
from tunnel.clock import Clock
from tunnel.connector import TunnelConnector
from tunnel.errors import SessionClosedError

__all__ = ["ConnectorTunnel", "TelemetryForwarder", "encode_events"]

_LOGGER = logging.getLogger(__name__)
_STATES = {
    "idle": TunnelState.CONNECTING,
    "connecting": TunnelState.CONNECTING,
    "connected": TunnelState.CONNECTED,
    "waiting": TunnelState.WAITING,
    "disabled": TunnelState.STOPPED_EXPIRED,
    "stopped": TunnelState.WAITING,
}


class ConnectorTunnel:
    """The tunnel connector behind :class:`ccu_addon.status.TunnelControl`."""

    def __init__(self, connector: TunnelConnector) -> None:
        self.connector = connector

    def status(self) -> TunnelStatus:
        s = self.connector.status()
        refusal = None
        if s.last_refusal is not None:
            r = s.last_refusal
            refusal = Refusal(
                reason=str(r.reason), detail=r.detail, at=r.at, retry_after=r.retry_after
            )
        return TunnelStatus(
            state=_STATES.get(s.state, TunnelState.WAITING),
            connected_since=s.connected_since,
            last_handshake=s.last_handshake,
            rtt=s.rtt,
            bytes_sent=s.bytes_sent,
            bytes_received=s.bytes_received,
            last_refusal=refusal,
        )

    def reenable(self) -> None:
        self.connector.reenable()


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, bool | int | float | str) or value is None else str(value)


def encode_events(events: list[CcuEvent]) -> bytes:
    """The telemetry payload for a batch of events."""
    body = {
        "kind": "ccu_events",
        "events": [
            {
                "interface": e.interface,
                "address": e.address,
                "key": e.key,
                "value": _jsonable(e.value),
                "at": e.at.isoformat(),
            }
            for e in events
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()


class TelemetryForwarder:
    """Queues events (the bridge's sink) and sends them through the tunnel in batches."""

    def __init__(self, clock: Clock, *, limit: int = 2000, batch: int = 100) -> None:
        self._clock = clock
        self._queue: deque[CcuEvent] = deque(maxlen=limit)
        self._batch = batch
        self._ready = asyncio.Event()
        self._seq = 0
        self.sent = 0
        """Events acknowledged by the gateway."""

    def __call__(self, events: list[CcuEvent]) -> None:
        self._queue.extend(events)
        self._ready.set()

    def _next_seq(self) -> int:
        # Milliseconds since the epoch times 1000: grows across restarts of the add-on, so
        # the gateway's (device, seq) de-duplication never mistakes a new batch for an old one.
        self._seq = max(self._seq + 1, int(self._clock.now().timestamp() * 1000) * 1000)
        return self._seq

    async def run(self, connector: TunnelConnector) -> None:
        """Forward until cancelled."""
        while True:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
            session = await connector.wait_connected()
            batch = list(self._queue)[: self._batch]
            try:
                ack = await session.send_telemetry(self._next_seq(), encode_events(batch))
                await ack
            except SessionClosedError:
                continue  # the batch stays queued; the next session sends it
            taken = {id(event) for event in batch}
            while self._queue and id(self._queue[0]) in taken:
                self._queue.popleft()
            self.sent += len(batch)
