"""The gateway's push WebSocket transport: aiohttp parses, the session gets binary messages
in the same callback; control frames, pauses and the end keep their order and meaning."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode

from tests.tunnel.sessions import until
from tests.tunnel.test_ws_client import Endpoint, context, endpoint  # noqa: F401 - fixtures
from tunnel.errors import SessionClosedError
from tunnel.transport import abilities
from tunnel.ws import PUSH_MAX, PushWebSocketTransport, WebSocketTransport


@pytest.fixture
async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _pair(
    endpoint: Endpoint,  # noqa: F811 - the fixture
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> tuple[aiohttp.ClientWebSocketResponse, PushWebSocketTransport, Any, list[bytes]]:
    """A device-side client, the gateway's push transport with a receiver, aiohttp's ws."""
    client = await client_session.ws_connect(endpoint.url(), ssl=context, autoping=False)
    ws, request = await endpoint.accepted.get()
    server = PushWebSocketTransport.for_request(ws, request)
    assert isinstance(server, PushWebSocketTransport)
    got: list[bytes] = []
    server.set_receiver(got.append)
    return client, server, ws, got


async def test_binary_messages_arrive_in_order_around_a_ping_and_a_bulk_one(
    endpoint: Endpoint,  # noqa: F811
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> None:
    client, server, ws, got = await _pair(endpoint, context, client_session)
    assert abilities(server) == (True, True)
    big = bytes(range(256)) * (PUSH_MAX // 256 + 1)
    reading = asyncio.create_task(server.receive())
    await client.send_bytes(b"one")
    await client.send_bytes(b"two")
    await client.ping(b"are you there")
    await client.send_bytes(b"three")
    await client.send_bytes(big)  # bulk-sized: through receive(), still in its place
    await client.send_bytes(b"four")
    pong = await client.receive()
    assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"are you there")
    await until(lambda: len(got) == 5)
    assert got == [b"one", b"two", b"three", big, b"four"]
    assert not reading.done()
    await client.close()
    with pytest.raises(SessionClosedError) as caught:
        await reading
    assert caught.value.clean
    assert ws.close_code == WSCloseCode.OK


async def test_paused_messages_wait_in_aiohttp_and_come_in_order(
    endpoint: Endpoint,  # noqa: F811
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> None:
    client, server, ws, got = await _pair(endpoint, context, client_session)
    reading = asyncio.create_task(server.receive())
    server.pause_receiving()
    for n in range(3):
        await client.send_bytes(b"%d" % n)
    await until(lambda: len(ws._reader._buffer) == 3)  # arrived, parsed, held back
    assert got == []
    server.resume_receiving()
    assert got == [b"0", b"1", b"2"]
    await client.send_bytes(b"3")
    await until(lambda: len(got) == 4)
    await client.close()
    with pytest.raises(SessionClosedError):
        await reading


async def test_a_text_message_ends_the_session(
    endpoint: Endpoint,  # noqa: F811
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> None:
    client, server, _, got = await _pair(endpoint, context, client_session)
    reading = asyncio.create_task(server.receive())
    await client.send_bytes(b"first")
    await client.send_str("not our protocol")
    closing = await client.receive()  # the gateway's close; the client answers it
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, WSCloseCode.UNSUPPORTED_DATA)
    with pytest.raises(SessionClosedError, match="text"):
        await reading
    assert got == [b"first"]


async def test_without_the_receiver_it_is_a_plain_transport_again(
    endpoint: Endpoint,  # noqa: F811
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> None:
    client, server, _, got = await _pair(endpoint, context, client_session)
    await client.send_bytes(b"pushed")
    await until(lambda: got == [b"pushed"])
    server.set_receiver(None)
    await client.send_bytes(b"returned")
    assert await server.receive() == b"returned"
    reading = asyncio.create_task(server.receive())
    await client.close()
    with pytest.raises(SessionClosedError):
        await reading


def test_an_unexpected_aiohttp_gets_the_plain_transport() -> None:
    ws: Any = SimpleNamespace(_reader=None)
    request: Any = SimpleNamespace(protocol=None, transport=None)
    transport = PushWebSocketTransport.for_request(ws, request)
    assert type(transport) is WebSocketTransport
    assert abilities(transport) == (False, True)


async def test_a_close_is_answered_and_the_end_seen_while_receiving_is_paused(
    endpoint: Endpoint,  # noqa: F811
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> None:
    client, server, _, got = await _pair(endpoint, context, client_session)
    reading = asyncio.create_task(server.receive())
    server.pause_receiving()  # the session is behind; the device hangs up meanwhile
    await client.close()
    async with asyncio.timeout(5):
        with pytest.raises(SessionClosedError):
            await reading
    assert got == []


async def test_eager_sends_write_whole_frames_of_every_length_form_in_order(
    endpoint: Endpoint,  # noqa: F811
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> None:
    """The gateway writes small frames itself, not through aiohttp's writer: the 7-bit,
    16-bit and 64-bit length forms, mixed with frames aiohttp writes, arrive as sent."""
    client, server, ws, _ = await _pair(endpoint, context, client_session)
    assert server._plain_writer is ws._writer  # the bypass is on for this connection
    messages = [b"", b"x" * 125, b"y" * 126, b"z" * 65535, b"w" * 65536, b"v" * 200_000]
    for message in messages:
        assert server.writable
        assert server.send_nowait(message)
        await server.send(message[:3] + b"!")  # through aiohttp, between ours
    for message in messages:
        first = await client.receive()
        assert (first.type, first.data) == (aiohttp.WSMsgType.BINARY, message)
        second = await client.receive()
        assert second.data == message[:3] + b"!"
    reading = asyncio.create_task(server.receive())
    await client.close()
    with pytest.raises(SessionClosedError):
        await reading
    with pytest.raises(SessionClosedError):
        server.send_nowait(b"too late")


async def test_a_compressing_websocket_keeps_aiohttps_writer(
    endpoint: Endpoint,  # noqa: F811
    context: ssl.SSLContext,  # noqa: F811
    client_session: aiohttp.ClientSession,
) -> None:
    client, server, ws, _ = await _pair(endpoint, context, client_session)
    assert ws._writer is not None
    ws._writer.compress = 15  # as if permessage-deflate had been agreed
    assert WebSocketTransport(ws, transport=server._socket)._plain_writer is None
    ws._writer.compress = 0
    reading = asyncio.create_task(server.receive())  # answers the client's close
    await client.close()
    with pytest.raises(SessionClosedError):
        await reading
