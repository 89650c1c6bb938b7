"""The device's WebSocket client against the gateway's aiohttp endpoint, over real TLS."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import WSCloseCode, web
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Request

from tests.tunnel.gateway_stub import device_ssl_context
from tests.tunnel.sessions import connected, until
from tunnel.device_end import DeviceSession
from tunnel.errors import ClosedBeforeTlsError, SessionClosedError, UpgradeRefusedError
from tunnel.gateway_end import GatewaySession
from tunnel.transport import MAX_MESSAGE, MessageTransport
from tunnel.ws import AIOHTTP_MAX_MSG_SIZE, WebSocketTransport
from tunnel.ws_client import RECEIVE_HIGH_WATER, WebSocketClient, connect


class Endpoint:
    """``/tunnel/v1`` as the gateway serves it; each accepted WebSocket goes to a queue."""

    def __init__(self, ca: trustme.CA) -> None:
        self.accepted: asyncio.Queue[tuple[web.WebSocketResponse, web.Request]] = asyncio.Queue()
        self.forbid = False
        """Answer the upgrade with 403, as a gateway that does not want this device."""
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.ssl)
        ca.configure_trust(self.ssl)
        self.ssl.verify_mode = ssl.CERT_REQUIRED
        self.port = 0

    def url(self, path: str = "/tunnel/v1") -> str:
        return f"wss://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/tunnel/v1", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.forbid:
            raise web.HTTPForbidden(text="certificate not allowed")
        ws = web.WebSocketResponse(max_msg_size=AIOHTTP_MAX_MSG_SIZE, compress=False)
        await ws.prepare(request)
        await self.accepted.put((ws, request))
        await self._release.wait()
        return ws


@pytest.fixture
async def endpoint(ca: trustme.CA) -> AsyncIterator[Endpoint]:
    server = Endpoint(ca)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def context(ca: trustme.CA, tmp_path: Path) -> ssl.SSLContext:
    return device_ssl_context(ca, tmp_path)


async def _pair(
    endpoint: Endpoint, context: ssl.SSLContext
) -> tuple[WebSocketClient, WebSocketTransport, web.WebSocketResponse, web.Request]:
    client = await connect(endpoint.url(), context)
    ws, request = await endpoint.accepted.get()
    return client, WebSocketTransport(ws), ws, request


async def _close(client: WebSocketClient, server: WebSocketTransport) -> None:
    """Close from the device while the gateway reads (it answers the close from there)."""
    reading = asyncio.create_task(server.receive())
    await client.close()
    with pytest.raises(SessionClosedError):
        await reading


async def test_messages_both_ways_small_and_largest(
    endpoint: Endpoint, context: ssl.SSLContext
) -> None:
    client, server, _, _ = await _pair(endpoint, context)
    assert isinstance(client, MessageTransport)
    largest = bytes(range(256)) * (MAX_MESSAGE // 256) + b"x" * (MAX_MESSAGE % 256)
    assert len(largest) == MAX_MESSAGE
    for message in (b"\x01", b"hello" * 30, b"a" * 70_000, largest):
        await client.send(message)
        assert await server.receive() == message
        await server.send(message[::-1])
        assert await client.receive() == message[::-1]
    many = [bytes([n]) * (n * 97) for n in range(1, 60)]
    for message in many:
        await server.send(message)
    assert [await client.receive() for _ in many] == many
    await _close(client, server)


async def test_clean_close_by_the_device(endpoint: Endpoint, context: ssl.SSLContext) -> None:
    client, server, ws, _ = await _pair(endpoint, context)
    receiving = asyncio.create_task(server.receive())
    await client.close()
    with pytest.raises(SessionClosedError) as caught:
        await receiving
    assert caught.value.clean
    assert ws.close_code == WSCloseCode.OK
    with pytest.raises(SessionClosedError) as again:
        await client.receive()
    assert again.value.clean
    with pytest.raises(SessionClosedError):
        await client.send(b"late")
    await client.close()  # idempotent


async def test_clean_close_by_the_gateway(endpoint: Endpoint, context: ssl.SSLContext) -> None:
    client, server, _, _ = await _pair(endpoint, context)
    await server.send(b"last words")
    closing = asyncio.create_task(server.close())
    assert await client.receive() == b"last words"
    with pytest.raises(SessionClosedError) as caught:
        await client.receive()
    assert caught.value.clean
    assert client.close_code == WSCloseCode.OK
    await closing
    with pytest.raises(SessionClosedError):
        await client.send(b"too late")


async def test_going_away_is_clean_but_other_codes_are_not(
    endpoint: Endpoint, context: ssl.SSLContext
) -> None:
    for code, clean in ((WSCloseCode.GOING_AWAY, True), (WSCloseCode.INTERNAL_ERROR, False)):
        client, _, ws, _ = await _pair(endpoint, context)
        closing = asyncio.create_task(ws.close(code=code))
        with pytest.raises(SessionClosedError) as caught:
            await client.receive()
        assert caught.value.clean is clean
        await closing


async def test_abrupt_close_is_not_clean(endpoint: Endpoint, context: ssl.SSLContext) -> None:
    client, _, _, request = await _pair(endpoint, context)
    assert request.transport is not None
    request.transport.abort()
    with pytest.raises(SessionClosedError) as caught:
        await client.receive()
    assert not caught.value.clean
    assert client.close_code == WSCloseCode.ABNORMAL_CLOSURE
    with pytest.raises(SessionClosedError):
        await client.send(b"into the void")


async def test_text_message_ends_the_session(endpoint: Endpoint, context: ssl.SSLContext) -> None:
    client, server, ws, _ = await _pair(endpoint, context)
    await ws.send_str("hello?")
    with pytest.raises(SessionClosedError, match="text") as caught:
        await client.receive()
    assert not caught.value.clean
    with pytest.raises(SessionClosedError):
        await server.receive()
    assert ws.close_code == WSCloseCode.UNSUPPORTED_DATA


async def test_message_beyond_the_limit_ends_the_session(
    endpoint: Endpoint, context: ssl.SSLContext
) -> None:
    client, server, ws, _ = await _pair(endpoint, context)
    await ws.send_bytes(b"z" * (MAX_MESSAGE + 1))
    with pytest.raises(SessionClosedError, match="too big"):
        await client.receive()
    with pytest.raises(SessionClosedError):
        await server.receive()
    assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG


async def test_gateway_ping_is_answered(endpoint: Endpoint, context: ssl.SSLContext) -> None:
    client, server, ws, _ = await _pair(endpoint, context)
    await ws.ping(b"are you there")
    await server.send(b"after the ping")
    assert await client.receive() == b"after the ping"
    await client.send(b"still here")
    assert await server.receive() == b"still here"  # the PONG was consumed on the way
    await _close(client, server)


@pytest.mark.parametrize(("status", "path"), [(403, "/tunnel/v1"), (404, "/elsewhere")])
async def test_refused_upgrade_is_a_clear_error(
    endpoint: Endpoint, context: ssl.SSLContext, status: int, path: str
) -> None:
    endpoint.forbid = status == 403
    with pytest.raises(UpgradeRefusedError) as caught:
        await connect(endpoint.url(path), context)
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)
    assert isinstance(caught.value, ConnectionError)
    if status == 403:
        assert "certificate not allowed" in str(caught.value)


async def test_untrusted_gateway_fails_the_tls_handshake(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    stranger = device_ssl_context(trustme.CA(), tmp_path)
    with pytest.raises(ssl.SSLError):
        await connect(endpoint.url(), stranger)


@pytest.mark.parametrize("how", ["abort", "close"])
async def test_a_gateway_closing_before_tls_is_busy_not_down(
    context: ssl.SSLContext, how: str
) -> None:
    """Over its TLS handshake budget the gateway accepts TCP and closes it at once (ADR 0032):
    reset (the ClientHello unread) or closed; either way not a refused connect."""

    async def refuse(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if how == "abort":
            writer.transport.abort()
        else:
            writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        for _ in range(3):
            with pytest.raises(ClosedBeforeTlsError) as caught:
                await connect(f"wss://127.0.0.1:{port}/tunnel/v1", context)
            assert isinstance(caught.value, ConnectionResetError)  # callers catching OSError
    with pytest.raises(ConnectionRefusedError) as refused:  # nothing listens: down, not busy
        await connect(f"wss://127.0.0.1:{port}/tunnel/v1", context)
    assert not isinstance(refused.value, ClosedBeforeTlsError)


async def test_slow_consumer_pushes_back_with_bounded_memory(
    endpoint: Endpoint, context: ssl.SSLContext
) -> None:
    client, server, _, _ = await _pair(endpoint, context)
    message = b"m" * 65536
    count = 1024  # 64 MiB: far more than socket buffers hold

    async def flood() -> None:
        for n in range(count):
            await server.send(n.to_bytes(4, "big") + message)

    sender = asyncio.create_task(flood())
    await until(lambda: client.reading_paused)
    bound = RECEIVE_HIGH_WATER + 2 * MAX_MESSAGE
    assert client.buffered <= bound
    assert not sender.done()  # TCP pushed back on the gateway
    for n in range(count):
        received = await client.receive()
        assert received[:4] == n.to_bytes(4, "big")
        assert client.buffered <= bound
    await sender
    await _close(client, server)


async def test_client_frames_are_masked(context: ssl.SSLContext) -> None:
    """A strict RFC 6455 server (wsproto) rejects unmasked client frames."""
    got: asyncio.Queue[bytes] = asyncio.Queue()
    served = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        try:
            while data := await reader.read(65536):
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, Request):
                        writer.write(ws.send(AcceptConnection()))
                    elif isinstance(event, BytesMessage):
                        await got.put(bytes(event.data))
                    elif isinstance(event, CloseConnection):
                        if ws.state is ConnectionState.REMOTE_CLOSING:
                            writer.write(ws.send(event.response()))
                        await got.put(f"close {event.code}".encode())
        finally:
            writer.close()
            served.set()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        client = await connect(f"ws://127.0.0.1:{port}/tunnel/v1", None)
        await client.send(b"masked?")
        assert await got.get() == b"masked?"
        await client.close()
        assert await got.get() == b"close 1000"  # not a parse failure (1002)
        await served.wait()


def test_the_connector_does_not_import_aiohttp() -> None:
    code = "import sys, tunnel.connector; print(sorted(m for m in sys.modules if 'aiohttp' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


async def test_session_over_the_client_stops_reading_while_handlers_lag(
    endpoint: Endpoint, context: ssl.SSLContext
) -> None:
    """Push delivery: a full inbound queue pauses the socket instead of growing."""
    client, server_transport, _, _ = await _pair(endpoint, context)
    gate = asyncio.Event()
    seen: list[int] = []

    async def on_control(body: dict[str, Any]) -> None:
        await gate.wait()
        seen.append(int(body["n"]))

    device = DeviceSession(client, on_control=on_control)
    gateway = GatewaySession(server_transport, heartbeat=5.0)
    async with connected(gateway, device):
        count = 400
        for n in range(count):
            await gateway.send_control({"n": n, "pad": "x" * 200})
        await until(lambda: client.reading_paused)
        # One socket read may hand over a few frames past the limit, never an unbounded queue.
        assert len(device._inbound) < device.INBOUND_LIMIT + 64
        gate.set()
        await until(lambda: len(seen) == count)
    assert seen == list(range(count))
