"""Helpers: a gateway and a device session connected in memory, running in tasks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from tunnel.device_end import DeviceSession
from tunnel.errors import SessionClosedError
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.gateway_end import GatewaySession
from tunnel.session import DisconnectReason
from tunnel.streams import Stream
from tunnel.transport import MemoryTransport, MessageTransport, memory_pair

HELLO = Hello(
    versions=PROTOCOL_VERSIONS, capabilities=("telemetry",), software="test", device_kind="ccu"
)


@dataclass
class Pair:
    gateway: GatewaySession
    device: DeviceSession
    gateway_run: asyncio.Task[DisconnectReason]
    device_run: asyncio.Task[DisconnectReason]


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition()`` holds (for state that has no event)."""
    while not condition():  # noqa: ASYNC110 - polls plain attributes, no event to wait on
        await asyncio.sleep(0.001)


async def echo(stream: Stream) -> None:
    """Device stream handler: send back everything until EOF."""
    while data := await stream.read(65536):
        await stream.write(data)


async def handshake(gateway: GatewaySession, device: DeviceSession) -> None:
    hello_sent = asyncio.create_task(device.handshake(HELLO, timeout=5))
    await gateway.receive_hello(timeout=5)
    await gateway.accept(session_id="s-1", capabilities=("telemetry",))
    await hello_sent


@contextlib.asynccontextmanager
async def connected(
    gateway: GatewaySession | None = None,
    device: DeviceSession | None = None,
    transports: tuple[MessageTransport, MessageTransport] | None = None,
) -> AsyncIterator[Pair]:
    """Handshake, run both ends; on exit close both and wait for the runners."""
    gw_t, dev_t = transports or memory_pair()
    gateway = gateway or GatewaySession(gw_t, heartbeat=5.0)
    device = device or DeviceSession(dev_t, on_open=echo)
    await handshake(gateway, device)
    pair = Pair(
        gateway,
        device,
        asyncio.create_task(gateway.run(), name="gateway run"),
        asyncio.create_task(device.run(), name="device run"),
    )
    try:
        yield pair
    finally:
        await gateway.close()
        await device.close()
        await asyncio.gather(pair.gateway_run, pair.device_run)


class StallingTransport:
    """Wraps a transport; after :meth:`stall` it neither delivers nor sends anything."""

    def __init__(self, inner: MemoryTransport) -> None:
        self._inner = inner
        self._stalled = asyncio.Event()
        self._closed = asyncio.Event()

    def stall(self) -> None:
        self._stalled.set()

    async def send(self, message: bytes) -> None:
        if self._closed.is_set():
            raise SessionClosedError("closed", clean=True)
        if not self._stalled.is_set():
            await self._inner.send(message)

    async def receive(self) -> bytes:
        get = asyncio.ensure_future(self._inner.receive())
        stalled = asyncio.ensure_future(self._stalled.wait())
        try:
            await asyncio.wait({get, stalled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stalled.cancel()
        if self._stalled.is_set():
            get.cancel()
            await self._closed.wait()
            raise SessionClosedError("closed", clean=True)
        return get.result()

    async def close(self) -> None:
        self._closed.set()
        await self._inner.close()
