"""The tunnel on uvloop's event loop (uvloop is a test dependency).

uvloop's transports do not subclass ``asyncio.Transport``; the device's WebSocket client
and the TCP splices take them by their methods (:func:`tunnel.transport.stream_transport`).
The scenario runs in its own uvloop runner, outside pytest-asyncio's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import trustme
import uvloop

from tests.tunnel.gateway_stub import StubGateway, device_ssl_context
from tests.tunnel.test_tcp_splice import HELLO, LocalTarget
from tunnel.clock import ManualClock
from tunnel.connector import TunnelConnector
from tunnel.streams import Stream
from tunnel.tcp_splice import TcpSplice


async def _round_trip(ca: trustme.CA, tmp_path: Path) -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    gateway = StubGateway(ca)
    await gateway.start()
    target = LocalTarget()
    await target.start()
    splices: list[TcpSplice] = []

    async def on_open(stream: Stream) -> None:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(TcpSplice, "127.0.0.1", target.port)
        splices.append(protocol)
        await protocol.run(stream)

    connector = TunnelConnector(
        url=gateway.url,
        ssl_context=device_ssl_context(ca, tmp_path),
        hello=HELLO,
        clock=ManualClock(),
        on_open=on_open,
    )
    runner = asyncio.create_task(connector.run())
    try:
        async with asyncio.timeout(20):
            await connector.wait_connected()
            session = await gateway.sessions.get()
            stream = await session.open_stream("tcp://local")
            await stream.write(b"ping")
            assert await stream.readexactly(4) == b"ping"
            assert not isinstance(splices[0].transport, asyncio.Transport)  # uvloop's own
            blob = bytes(range(256)) * (3 * 1024 * 1024 // 256)  # many windows of credit

            async def send() -> None:
                await stream.write(blob)
                await stream.write_eof()

            sender = asyncio.create_task(send())
            assert await stream.readexactly(len(blob)) == blob
            await sender
            assert await stream.read() == b""
            await stream.wait_finished()
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await target.stop()
        await gateway.stop()


def test_a_spliced_stream_round_trips_over_uvloop(ca: trustme.CA, tmp_path: Path) -> None:
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(_round_trip(ca, tmp_path))
    finally:
        loop.close()
