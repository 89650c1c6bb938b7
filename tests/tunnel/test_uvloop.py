"""The tunnel on uvloop's event loop (uvloop is a test dependency).

uvloop's transports do not subclass ``asyncio.Transport``; the device's WebSocket client
and the TCP splices take them by their methods (:func:`tunnel.transport.stream_transport`).
The scenario of ``test_tcp_splice`` runs in its own uvloop runner, outside pytest-asyncio's loop.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import trustme
import uvloop

from tests.tunnel.sessions import until
from tests.tunnel.test_tcp_splice import (
    early_bytes_reach_a_stream_attached_later,
    round_trip_small_and_bulk,
    splice_rig,
)
from tunnel.clock import ManualClock
from tunnel.errors import StreamResetError
from tunnel.tcp_splice import TcpSplice


async def _round_trip(ca: trustme.CA, tmp_path: Path) -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    async with asyncio.timeout(20), splice_rig(ca, tmp_path, ManualClock()) as rig:
        await round_trip_small_and_bulk(rig)
        assert not isinstance(rig.splices[0].transport, asyncio.Transport)  # uvloop's own


def _on_uvloop(main: Coroutine[Any, Any, None]) -> None:
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(main)
    finally:
        loop.close()


def test_a_spliced_stream_round_trips_over_uvloop(ca: trustme.CA, tmp_path: Path) -> None:
    _on_uvloop(_round_trip(ca, tmp_path))


async def _early_bytes(ca: trustme.CA, tmp_path: Path) -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    async with asyncio.timeout(20), splice_rig(ca, tmp_path, ManualClock()) as rig:
        await early_bytes_reach_a_stream_attached_later(rig)


def test_bytes_read_before_attach_reach_the_stream_over_uvloop(
    ca: trustme.CA, tmp_path: Path
) -> None:
    """The gateway on uvloop: a forwarded connection's first bytes were read before its
    stream was attached and then waited for ever (the WAN bench's non-pipelined leg hung)."""
    _on_uvloop(_early_bytes(ca, tmp_path))


async def _reset_before_attach(ca: trustme.CA, tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    accepted: list[TcpSplice] = []

    def accept() -> TcpSplice:
        accepted.append(TcpSplice())
        return accepted[-1]

    server = await loop.create_server(accept, "127.0.0.1", 0)
    try:
        async with asyncio.timeout(20), splice_rig(ca, tmp_path, ManualClock()) as rig:
            client = socket.create_connection(server.sockets[0].getsockname())
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # RST: uvloop reads it at once, before any stream exists
            await until(lambda: bool(accepted))
            await accepted[0].wait_closed()
            stream = await rig.gateway.open_stream("tcp://local")
            accepted[0].attach(stream)
            await stream.wait_finished()
            assert isinstance(stream.error, StreamResetError)
    finally:
        server.close()
        await server.wait_closed()


def test_a_connection_reset_before_attach_resets_its_stream_over_uvloop(
    ca: trustme.CA, tmp_path: Path
) -> None:
    """Its stream would otherwise stay open for good, spliced to a dead connection."""
    _on_uvloop(_reset_before_attach(ca, tmp_path))
