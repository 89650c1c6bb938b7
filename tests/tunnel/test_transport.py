"""Which transports carry a splice or a WebSocket: asyncio's, and uvloop's look-alikes."""

from __future__ import annotations

import asyncio

import pytest

from tunnel.tcp_splice import TcpSplice
from tunnel.transport import stream_transport


async def test_asyncio_stream_transports_pass_and_others_do_not() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tcp, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    read_only = asyncio.ReadTransport()  # no write side: cannot carry a splice
    try:
        assert stream_transport(tcp) is tcp
        assert stream_transport(read_only) is None
        assert stream_transport(object()) is None
        with pytest.raises(TypeError, match="stream transport"):
            TcpSplice().connection_made(read_only)
    finally:
        tcp.close()
        server.close()
        await server.wait_closed()
