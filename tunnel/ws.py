"""aiohttp WebSockets as :class:`~tunnel.transport.MessageTransport`.

Both the client side (``aiohttp.ClientWebSocketResponse``, used by the connector) and the
server side (``aiohttp.web.WebSocketResponse``, used by the gateway's ``/tunnel/v1``
handler) are adapted by :class:`WebSocketTransport`. Only binary messages carry frames: a
text message ends the session (the peer does not speak the protocol), and so do close
frames and errors. A close with code 1000/1001 counts as clean, anything else as a lost
connection. aiohttp and OS errors on send become :class:`SessionClosedError`.

Create the WebSocket without aiohttp's own heartbeat (the session sends PING/PONG frames)
and with ``max_msg_size`` of at least :data:`MAX_MESSAGE`.
"""

from __future__ import annotations

from typing import Final

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from tunnel.errors import SessionClosedError
from tunnel.frames import HEADER, MAX_PAYLOAD

__all__ = ["MAX_MESSAGE", "WebSocketTransport"]

MAX_MESSAGE: Final = HEADER.size + MAX_PAYLOAD
"""Largest WebSocket message a session sends or accepts."""

_CLEAN_CODES: Final = frozenset({WSCloseCode.OK, WSCloseCode.GOING_AWAY})


class WebSocketTransport:
    """One WebSocket, client or server side, as a message transport."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse | web.WebSocketResponse) -> None:
        self._ws = ws

    @property
    def websocket(self) -> aiohttp.ClientWebSocketResponse | web.WebSocketResponse:
        return self._ws

    async def send(self, message: bytes) -> None:
        if self._ws.closed:
            raise SessionClosedError("WebSocket is closed", clean=self._clean())
        try:
            await self._ws.send_bytes(message)
        except (OSError, aiohttp.ClientError, RuntimeError) as exc:
            raise SessionClosedError(f"WebSocket send failed: {exc!r}") from exc

    async def receive(self) -> bytes:
        try:
            msg = await self._ws.receive()
        except (OSError, aiohttp.ClientError) as exc:
            raise SessionClosedError(f"WebSocket receive failed: {exc!r}") from exc
        if msg.type is WSMsgType.BINARY:
            data: bytes = msg.data
            return data
        if msg.type is WSMsgType.TEXT:
            await self._ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"binary frames only")
            raise SessionClosedError("peer sent a text message")
        if msg.type is WSMsgType.ERROR:
            raise SessionClosedError(f"WebSocket error: {msg.data!r}")
        # CLOSE, CLOSING, CLOSED
        return self._closed_by_peer()

    def _closed_by_peer(self) -> bytes:
        raise SessionClosedError(
            f"WebSocket closed (code {self._ws.close_code})", clean=self._clean()
        )

    def _clean(self) -> bool:
        return self._ws.close_code in _CLEAN_CODES

    async def close(self) -> None:
        try:
            await self._ws.close()
        except (OSError, aiohttp.ClientError, RuntimeError):
            return
