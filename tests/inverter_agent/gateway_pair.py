"""The tunnel's real sessions connected in memory: the agent's uplink without a network.

:class:`MemoryLink` is a :class:`~inverter_agent.uplink.ChannelSource` whose channels are
real :class:`~tunnel.device_end.DeviceSession` objects, each paired with a real
:class:`~tunnel.gateway_end.GatewaySession` over :func:`tunnel.transport.memory_pair`.
The gateway end records every TELEMETRY it commits; ``gate`` holds its ACKs back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from inverter_agent.tunnel_link import SessionChannel, agent_hello
from tunnel.device_end import DeviceSession
from tunnel.gateway_end import GatewaySession
from tunnel.session import DisconnectReason
from tunnel.transport import memory_pair

__all__ = ["Connection", "MemoryLink"]

ControlHandler = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Connection:
    """One connected pair of sessions and their runner tasks."""

    gateway: GatewaySession
    device: DeviceSession
    runners: tuple[asyncio.Task[DisconnectReason], asyncio.Task[DisconnectReason]]

    async def close(self) -> None:
        await self.gateway.close()
        await self.device.close()
        await asyncio.gather(*self.runners)


class MemoryLink:
    """Hands out in-memory tunnel sessions to the uplink; the gateway side records."""

    def __init__(self, *, on_control: ControlHandler | None = None, max_unacked: int = 16) -> None:
        self.on_control = on_control
        self.max_unacked = max_unacked
        self.received: list[tuple[int, bytes]] = []
        """(seq, payload) of every TELEMETRY the gateway committed, resends included."""
        self.payloads: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        """Every object inside the committed payloads, in order."""
        self.gate = asyncio.Event()
        """Cleared: the gateway holds its commits (and so its ACKs) back."""
        self.gate.set()
        self.arrived = asyncio.Event()
        """Set whenever a TELEMETRY frame reached the gateway."""
        self.connections: list[Connection] = []
        self._ready: asyncio.Queue[Connection] = asyncio.Queue()

    async def _on_telemetry(self, seq: int, payload: bytes) -> None:
        self.arrived.set()
        await self.gate.wait()
        self.received.append((seq, payload))
        body = json.loads(payload)
        for item in body if isinstance(body, list) else [body]:
            self.payloads.put_nowait(item)

    async def connect(self) -> Connection:
        """Open a new pair of sessions; the uplink's next :meth:`wait_channel` gets it."""
        gw_transport, dev_transport = memory_pair(64)
        gateway = GatewaySession(gw_transport, heartbeat=30.0, on_telemetry=self._on_telemetry)
        device = DeviceSession(
            dev_transport, on_control=self.on_control, max_unacked=self.max_unacked
        )
        hello = asyncio.create_task(device.handshake(agent_hello(), timeout=5))
        await gateway.receive_hello(timeout=5)
        await gateway.accept(
            session_id=f"s-{len(self.connections) + 1}", capabilities=("telemetry",)
        )
        await hello
        connection = Connection(
            gateway,
            device,
            (
                asyncio.create_task(gateway.run(), name="gateway session"),
                asyncio.create_task(device.run(), name="device session"),
            ),
        )
        self.connections.append(connection)
        self._ready.put_nowait(connection)
        return connection

    async def wait_channel(self) -> SessionChannel:
        while True:
            connection = await self._ready.get()
            if connection.device.close_reason is None:  # not ended
                return SessionChannel(connection.device)

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()

    async def next_payload(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next committed object of ``kind`` (``reading`` or ``info``)."""
        async with asyncio.timeout(timeout):
            while True:
                item = await self.payloads.get()
                if item.get("k") == kind:
                    return item
