"""Streams spliced to TCP by callbacks, through a real TLS tunnel (connector + aiohttp)."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

from tests.tunnel.gateway_stub import StubGateway, device_ssl_context
from tests.tunnel.sessions import until
from tunnel.clock import ManualClock
from tunnel.connector import TunnelConnector
from tunnel.errors import StreamResetError
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.gateway_end import GatewaySession
from tunnel.streams import INITIAL_WINDOW, MAX_CHUNK, Stream
from tunnel.tcp_splice import TcpSplice
from tunnel.transport import PushTransport

HELLO = Hello(
    versions=PROTOCOL_VERSIONS, capabilities=("telemetry",), software="1.0", device_kind="ccu"
)


@dataclass
class LocalTarget:
    """A TCP server on the device's loopback: echoes, or holds what it gets unread."""

    echo: bool = True
    port: int = 0
    eofs: int = 0
    resets: int = 0
    connections: list[asyncio.StreamWriter] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self.connections:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        if not self.echo:
            return  # never reads: the connection's buffers fill up
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            self.eofs += 1
            writer.write_eof()
        except ConnectionError:
            self.resets += 1
        finally:
            writer.close()


@dataclass
class Rig:
    gateway: GatewaySession
    target: LocalTarget
    splices: list[TcpSplice]


@contextlib.asynccontextmanager
async def splice_rig(ca: trustme.CA, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Rig]:
    """A stub gateway, a device whose streams are spliced to a local echo target, connected."""
    gateway = StubGateway(ca)
    await gateway.start()
    target = LocalTarget()
    await target.start()
    splices: list[TcpSplice] = []

    async def on_open(stream: Stream) -> None:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(TcpSplice, "127.0.0.1", target.port)
        splices.append(protocol)
        protocol.attach(stream)
        await protocol.wait_closed()

    connector = TunnelConnector(
        url=gateway.url,
        ssl_context=device_ssl_context(ca, tmp_path),
        hello=HELLO,
        clock=clock,
        on_open=on_open,
    )
    runner = asyncio.create_task(connector.run())
    try:
        device = await connector.wait_connected()
        assert isinstance(device._transport, PushTransport)  # frames dispatched by callback
        yield Rig(await gateway.sessions.get(), target, splices)
    finally:
        await connector.stop()
        await runner
        await target.stop()
        await gateway.stop()


async def round_trip_small_and_bulk(rig: Rig) -> None:
    """A ping, then 3 MiB (many windows of credit) echoed, then EOF both ways."""
    stream = await rig.gateway.open_stream("tcp://local")
    await stream.write(b"ping")
    assert await stream.readexactly(4) == b"ping"
    blob = bytes(range(256)) * (3 * 1024 * 1024 // 256)

    async def send() -> None:
        await stream.write(blob)
        await stream.write_eof()

    sender = asyncio.create_task(send())
    echoed = await stream.readexactly(len(blob))
    await sender
    assert echoed == blob
    assert await stream.read() == b""  # the target closed after our EOF
    await stream.wait_finished()
    await rig.splices[0].wait_closed()
    assert rig.target.eofs == 1


@pytest.fixture
async def rig(ca: trustme.CA, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Rig]:
    async with splice_rig(ca, tmp_path, clock) as rig:
        yield rig


async def early_bytes_reach_a_stream_attached_later(rig: Rig) -> None:
    """A connection's first bytes and its EOF arrive before its stream is open.

    As the gateway's forwarding listeners do, the splice is the accepted connection's
    protocol and is attached once OPEN_OK came back. asyncio keeps the bytes in the kernel
    (reading paused in ``connection_made``); uvloop starts reading after ``connection_made``
    whatever it asked, so the splice holds them, and must send them when attached.
    """
    loop = asyncio.get_running_loop()
    accepted: list[TcpSplice] = []

    def accept() -> TcpSplice:
        accepted.append(TcpSplice())
        return accepted[-1]

    def holding() -> bool:
        transport = accepted[0].transport if accepted else None
        return transport is not None and not transport.is_reading()

    server = await loop.create_server(accept, "127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.sockets[0].getsockname()[1]
        )
        writer.write(b"early bytes")
        writer.write_eof()
        async with asyncio.timeout(10):
            await until(holding)  # asyncio at once; uvloop once it has read the bytes
            stream = await rig.gateway.open_stream("tcp://local")  # waits for OPEN_OK
            accepted[0].attach(stream)
            assert await reader.read() == b"early bytes"  # echoed, then the target's EOF
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


async def test_round_trip_small_and_bulk(rig: Rig) -> None:
    await round_trip_small_and_bulk(rig)


async def test_early_bytes_reach_a_stream_attached_later(rig: Rig) -> None:
    await early_bytes_reach_a_stream_attached_later(rig)


async def test_reset_drops_the_tcp_connection(rig: Rig) -> None:
    stream = await rig.gateway.open_stream("tcp://local")
    await stream.write(b"hello")
    assert await stream.readexactly(5) == b"hello"
    stream.reset("bye")
    await rig.splices[0].wait_closed()
    transport = rig.splices[0].transport
    assert transport is not None
    assert transport.is_closing()


async def test_target_closing_ends_the_stream(rig: Rig) -> None:
    stream = await rig.gateway.open_stream("tcp://local")
    await stream.write(b"x")
    assert await stream.readexactly(1) == b"x"
    rig.target.connections[0].close()  # the local web UI hangs up
    assert await stream.read() == b""
    await stream.write_eof()
    await stream.wait_finished()
    await rig.splices[0].wait_closed()
    assert stream.error is None


async def test_target_reset_unseen_by_the_loop_ends_only_its_stream(rig: Rig) -> None:
    """The peer's CLOSE meets a connection the target has reset before the loop read it.

    The half-close then fails in the kernel (ENOTCONN); that must reset this one stream,
    not end the device's session with every other stream on it.
    """
    stream = await rig.gateway.open_stream("tcp://local")
    await stream.write(b"x")
    assert await stream.readexactly(1) == b"x"
    splice = rig.splices[0]
    assert splice.transport is not None
    splice.transport.pause_reading()  # the loop must not see the reset coming
    target = rig.target.connections[0]
    target.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
    )
    target.transport.abort()  # closed with linger 0: the kernel sends a reset
    with contextlib.suppress(ConnectionError):
        await target.wait_closed()
    device_side = splice.transport.get_extra_info("socket")
    # Wait in the kernel, not in the loop, until the reset has reached the device's socket.
    readable, _, _ = select.select([device_side.fileno()], [], [], 5.0)
    assert readable
    await stream.write_eof()
    await stream.wait_finished()
    assert isinstance(stream.error, StreamResetError)
    await splice.wait_closed()
    # The tunnel is still up: a new stream reaches the target.
    again = await rig.gateway.open_stream("tcp://local")
    await again.write(b"still here")
    assert await again.readexactly(10) == b"still here"


async def test_slow_target_pushes_back_through_credit(rig: Rig) -> None:
    rig.target.echo = False
    stream = await rig.gateway.open_stream("tcp://local")
    sender = asyncio.create_task(stream.write(bytes(32 * 1024 * 1024)))
    await until(lambda: stream.credit_stalls > 0 and stream.credit == 0 and not stream.queued)
    splice = rig.splices[0]
    assert splice.transport is not None
    # What waits on the device for the target: its socket buffer above the high-water mark
    # plus at most one window that the peer was allowed to send.
    _, high = splice.transport.get_write_buffer_limits()
    assert splice.transport.get_write_buffer_size() <= high + INITIAL_WINDOW + MAX_CHUNK
    assert not sender.done()
    sender.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sender
