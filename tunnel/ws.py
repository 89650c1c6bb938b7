"""aiohttp WebSockets as :class:`~tunnel.transport.MessageTransport`.

Both the client side (``aiohttp.ClientWebSocketResponse``, used by the connector) and the
server side (``aiohttp.web.WebSocketResponse``, used by the gateway's ``/tunnel/v1``
handler) are adapted by :class:`WebSocketTransport`. Only binary messages carry frames: a
text message ends the session (the peer does not speak the protocol), and so do close
frames and errors. A close with code 1000/1001 counts as clean, anything else as a lost
connection. aiohttp and OS errors on send become :class:`SessionClosedError`.

Create the WebSocket without aiohttp's own heartbeat (the session sends PING/PONG frames)
and with ``max_msg_size=``:data:`AIOHTTP_MAX_MSG_SIZE` (aiohttp refuses a message of
exactly ``max_msg_size`` bytes, so :data:`MAX_MESSAGE` itself would be one byte short).
The device side uses :mod:`tunnel.ws_client` instead (no aiohttp there, ADR 0009).
"""

from __future__ import annotations

import asyncio
from typing import Final

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from tunnel.errors import SessionClosedError
from tunnel.transport import MAX_MESSAGE

__all__ = ["AIOHTTP_MAX_MSG_SIZE", "MAX_MESSAGE", "WebSocketTransport"]

AIOHTTP_MAX_MSG_SIZE: Final = MAX_MESSAGE + 1
"""``max_msg_size`` for aiohttp WebSockets: aiohttp 3.13-3.14 refuse a message whose size
equals the limit (``>=`` in its reader), so the largest tunnel message needs one more."""

_CLEAN_CODES: Final = frozenset({WSCloseCode.OK, WSCloseCode.GOING_AWAY})


class WebSocketTransport:
    """One WebSocket, client or server side, as a message transport."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse | web.WebSocketResponse,
        *,
        transport: asyncio.BaseTransport | None = None,
    ) -> None:
        """``transport``: the connection under ``ws`` (``request.transport`` in a handler).

        With it, :meth:`send_nowait` can send from a callback when the socket buffer is
        low (one task hop less per frame written by a TCP splice); without it, it never
        does and every frame goes through a task.
        """
        self._ws = ws
        self._socket = transport if isinstance(transport, asyncio.Transport) else None
        self._low_water: int | None = None

    @property
    def websocket(self) -> aiohttp.ClientWebSocketResponse | web.WebSocketResponse:
        return self._ws

    @property
    def writable(self) -> bool:
        """A :meth:`send_nowait` would send now: open, and the socket buffer is low.

        Below the transport's low-water mark its protocol cannot be paused for writing,
        so aiohttp's ``send_bytes`` (no compression) writes the frame and returns without
        waiting for a drain.
        """
        transport = self._socket
        if transport is None or transport.is_closing() or self._ws.closed:
            return False
        if self._low_water is None:
            self._low_water, _ = transport.get_write_buffer_limits()
        return transport.get_write_buffer_size() <= self._low_water

    def send_nowait(self, message: bytes) -> bool:
        """Send now, from a callback, if that needs no waiting (see :attr:`writable`).

        Runs ``send_bytes`` to its end in place: it does not suspend while
        :attr:`writable` holds. Should it suspend all the same, the frame was written
        already (aiohttp writes, then waits for the drain); only that wait is skipped.
        """
        if not self.writable:
            if self._ws.closed:
                raise SessionClosedError("WebSocket is closed", clean=self._clean())
            return False
        coro = self._ws.send_bytes(message)
        try:
            coro.send(None)
        except StopIteration:
            return True
        except (OSError, aiohttp.ClientError, RuntimeError) as exc:
            raise SessionClosedError(f"WebSocket send failed: {exc!r}") from exc
        coro.close()  # suspended in the drain wait, after the write
        return True

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
