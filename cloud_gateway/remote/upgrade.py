"""WebSocket (and other ``Upgrade``) requests through a tunnel stream.

The browser's handshake goes to the device as it is (minus the gateway's cookies); the
device's ``101 Switching Protocols`` goes back; from then on bytes are spliced both ways
without looking at WebSocket frames. The ``Origin`` must be the device host itself, so
another site cannot open a WebSocket with the browser's remote-access cookie.

aiohttp has no public raw-upgrade API: like its own ``WebSocketResponse`` this takes
over the connection with ``request.protocol.set_parser`` after the 101 is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Final

import h11
from aiohttp import web

from cloud_gateway.errors import StateError
from cloud_gateway.remote.proxy import (
    CHUNK,
    ByteStream,
    ProxyError,
    next_event,
    request_headers,
)
from cloud_gateway.remote.proxy import response_headers as filter_response_headers
from tunnel.tasks import run_together

__all__ = ["is_upgrade", "origin_allowed", "proxy_upgrade"]

_HIGH_WATER: Final = 256 * 1024


def is_upgrade(request: web.Request) -> bool:
    """Whether the browser asks to switch protocols (WebSocket)."""
    tokens = {t.strip().lower() for t in request.headers.get("Connection", "").split(",")}
    return "upgrade" in tokens and bool(request.headers.get("Upgrade"))


def origin_allowed(request: web.Request) -> bool:
    """Only pages of the device host itself may open its WebSockets."""
    return request.headers.get("Origin", "").lower() == f"https://{request.host}".lower()


class _RawReader:
    """Receives the browser's bytes after the upgrade (aiohttp's payload-parser protocol)."""

    def __init__(self, request: web.Request) -> None:
        self._transport = request.transport
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._eof = False
        self._changed = asyncio.Event()
        self._paused = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._chunks.append(bytes(data))
        self._size += len(data)
        self._changed.set()
        if self._size > _HIGH_WATER and self._transport is not None and not self._paused:
            self._transport.pause_reading()
            self._paused = True
        return False, b""

    def feed_eof(self) -> None:
        self._eof = True
        self._changed.set()

    async def read(self) -> bytes:
        while not self._chunks:
            if self._eof:
                return b""
            self._changed.clear()
            await self._changed.wait()
        chunk = self._chunks.popleft()
        self._size -= len(chunk)
        if self._paused and self._size < _HIGH_WATER // 2 and self._transport is not None:
            self._transport.resume_reading()
            self._paused = False
        return chunk


async def proxy_upgrade(request: web.Request, stream: ByteStream) -> web.StreamResponse:
    """Pass the upgrade handshake through and splice the connection with ``stream``."""
    conn = h11.Connection(h11.CLIENT)
    head = h11.Request(
        method=request.method,
        target=request.raw_path,
        headers=request_headers(request, upgrade=True),
    )
    await stream.write((conn.send(head) or b"") + (conn.send(h11.EndOfMessage()) or b""))
    event = await next_event(conn, stream)
    if isinstance(event, h11.Response):  # the device said no: pass its answer on
        return await _plain_answer(request, conn, stream, event)
    if not isinstance(event, h11.InformationalResponse) or event.status_code != 101:
        raise ProxyError(f"device answered {event!r} to an upgrade")
    response = web.StreamResponse(status=101, reason="Switching Protocols")
    for name, value in filter_response_headers(event.headers):
        response.headers.add(name, value)
    response.headers["Connection"] = "Upgrade"
    response.headers["Upgrade"] = request.headers.get("Upgrade", "websocket")
    response.force_close()
    reader = _RawReader(request)
    writer = await response.prepare(request)
    if writer is None:
        raise StateError("aiohttp prepared an upgrade response without a writer")
    # aiohttp's parser slot is typed for its WebSocketReader; ours has the same protocol.
    request.protocol.set_parser(reader)  # type: ignore[arg-type]
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("browser went away during the upgrade")
    leftover, _closed = conn.trailing_data
    if leftover:
        transport.write(bytes(leftover))

    async def browser_to_device() -> None:
        while chunk := await reader.read():
            await stream.write(chunk)
        await stream.write_eof()

    async def device_to_browser() -> None:
        while chunk := await stream.read(CHUNK):
            if transport.is_closing():
                return
            transport.write(chunk)
            await writer.drain()

    try:
        await run_together(browser_to_device(), device_to_browser(), name="upgrade")
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            transport.close()
    return response


async def _plain_answer(
    request: web.Request, conn: h11.Connection, stream: ByteStream, event: h11.Response
) -> web.StreamResponse:
    response = web.StreamResponse(status=event.status_code, reason=event.reason.decode())
    for name, value in filter_response_headers(event.headers):
        response.headers.add(name, value)
    await response.prepare(request)
    while isinstance(data := await next_event(conn, stream), h11.Data):
        await response.write(bytes(data.data))
    await response.write_eof()
    return response
