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
import struct
from collections.abc import Callable
from typing import Any, Final

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from tunnel.errors import SessionClosedError
from tunnel.transport import MAX_MESSAGE, stream_transport

__all__ = [
    "AIOHTTP_MAX_MSG_SIZE",
    "MAX_MESSAGE",
    "PUSH_MAX",
    "PushWebSocketTransport",
    "WebSocketTransport",
]

AIOHTTP_MAX_MSG_SIZE: Final = MAX_MESSAGE + 1
"""``max_msg_size`` for aiohttp WebSockets: aiohttp 3.13-3.14 refuse a message whose size
equals the limit (``>=`` in its reader), so the largest tunnel message needs one more."""

_CLEAN_CODES: Final = frozenset({WSCloseCode.OK, WSCloseCode.GOING_AWAY})
# A final, unmasked binary frame's header (RFC 6455 5.2), by payload length.
_BINARY_SHORT: Final = struct.Struct("!BB")
_BINARY_MEDIUM: Final = struct.Struct("!BBH")
_BINARY_LONG: Final = struct.Struct("!BBQ")


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
        self._socket = stream_transport(transport)
        self._low_water: int | None = None
        self._plain_writer: Any = self._bypass_writer()

    def _bypass_writer(self) -> Any:
        """aiohttp's writer of a prepared server WebSocket whose frames :meth:`send_nowait`
        may write itself (no mask, no compression, aiohttp 3.13-3.14's attributes), or
        None: then every frame goes through aiohttp."""
        writer = getattr(self._ws, "_writer", None)
        if (
            self._socket is None
            or not isinstance(self._ws, web.WebSocketResponse)
            or getattr(writer, "transport", None) is not self._socket
            or getattr(writer, "use_mask", True)
            or getattr(writer, "compress", 1)
            or not isinstance(getattr(writer, "_closing", None), bool)
        ):
            return None
        return writer

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

        On the server side (unmasked, uncompressed frames) the frame header and the
        message go to the connection in one ``write``, as aiohttp's writer would put
        them, without its coroutine and its three calls per frame: this runs on every
        small frame a TCP splice sends. Elsewhere it runs ``send_bytes`` to its end in
        place: it does not suspend while :attr:`writable` holds. Should it suspend all
        the same, the frame was written already (aiohttp writes, then waits for the
        drain); only that wait is skipped.
        """
        if not self.writable:
            if self._ws.closed:
                raise SessionClosedError("WebSocket is closed", clean=self._clean())
            return False
        writer, transport = self._plain_writer, self._socket
        if writer is not None and transport is not None and not writer._closing:
            size = len(message)
            if size < 126:
                transport.write(_BINARY_SHORT.pack(0x82, size) + message)
            elif size < 65536:
                transport.write(_BINARY_MEDIUM.pack(0x82, 126, size) + message)
            else:
                transport.write(_BINARY_LONG.pack(0x82, 127, size))
                transport.write(message)
            return True
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


def _take(queue: Any) -> Any:
    """The message at the head of aiohttp's non-empty queue, with its accounting (size, flow
    control): its ``read()`` returns at once when a message waits, so it runs to its end here."""
    reading = queue.read()
    try:
        reading.send(None)
    except StopIteration as done:
        return done.value
    reading.close()
    raise RuntimeError("aiohttp's WebSocket queue was empty")


PUSH_MAX: Final = 16 * 1024
"""Larger messages (bulk DATA) go through :meth:`PushWebSocketTransport.receive` instead: taken
in the parsing callback they made the gateway read and parse in smaller pieces, which doubled
its CPU per MiB; through the task they are taken in batches, as with the plain transport."""


class _PushingParser:
    """Stands in for aiohttp's WebSocket parser on the connection: parses with it, then lets
    the transport take the finished binary messages at once (:class:`PushWebSocketTransport`)."""

    __slots__ = ("_inner", "_owner")

    def __init__(self, inner: Any, owner: PushWebSocketTransport) -> None:
        self._inner = inner
        self._owner = owner

    def feed_data(self, data: bytes) -> Any:
        result = self._inner.feed_data(data)
        self._owner._deliver()
        return result

    def feed_eof(self) -> Any:
        result = self._inner.feed_eof()
        self._owner._wake()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class PushWebSocketTransport(WebSocketTransport):
    """The gateway's side of ``/tunnel/v1`` as a :class:`~tunnel.transport.PushTransport`.

    aiohttp parses each WebSocket frame in the connection's ``data_received`` and queues the
    message for a task that awaits ``receive()``: one event-loop turn and a task switch per
    frame, on every echo through a tunnel. Here the parser on the connection is wrapped, and
    binary messages of up to :data:`PUSH_MAX` bytes are taken from aiohttp's queue right after
    it parsed them and handed to the session's receiver in the same callback. Everything else
    (bulk messages, close, ping, errors, the end) goes through aiohttp's ``receive()``, which
    :meth:`receive` calls only when such a message is at the head of the queue, or when the
    receiver is gone.

    This reaches into aiohttp's internals (the protocol's parser slot, the queue's buffer):
    :meth:`for_request` uses it only where they look as expected (aiohttp 3.13-3.14) and
    otherwise returns a plain :class:`WebSocketTransport`.
    """

    def __init__(self, ws: web.WebSocketResponse, request: web.BaseRequest) -> None:
        super().__init__(ws, transport=request.transport)
        self._request_protocol: Any = request.protocol
        self._receiver: Callable[[bytes], None] | None = None
        self._paused = False
        self._installed = False
        self._waiter: asyncio.Future[None] | None = None

    @staticmethod
    def for_request(ws: web.WebSocketResponse, request: web.BaseRequest) -> WebSocketTransport:
        """A push transport for a prepared ``ws``, or a plain one if aiohttp differs."""
        protocol = getattr(request, "protocol", None)
        queue = getattr(ws, "_reader", None)
        if (
            queue is not None
            and hasattr(queue, "_buffer")
            and hasattr(queue, "read")
            and getattr(protocol, "_payload_parser", None) is not None
            and hasattr(ws, "_waiting")
        ):
            return PushWebSocketTransport(ws, request)
        return WebSocketTransport(ws, transport=request.transport)

    # -- PushTransport -------------------------------------------------------------------

    def set_receiver(self, receiver: Callable[[bytes], None] | None) -> None:
        self._receiver = receiver
        if receiver is not None and not self._installed:
            protocol = self._request_protocol
            protocol._payload_parser = _PushingParser(protocol._payload_parser, self)
            self._installed = True
        self._wake()

    def pause_receiving(self) -> None:
        self._paused = True

    def resume_receiving(self) -> None:
        self._paused = False
        self._deliver()
        self._wake()

    async def receive(self) -> bytes:
        while True:
            if self._receiver is None:
                return await super().receive()
            self._deliver()
            if not self._needs_aiohttp():
                await self._wait()
                continue
            # a control message, an error or the end is next: aiohttp handles it (a binary
            # message that follows a ping comes back here and goes to the receiver)
            message = await super().receive()
            receiver = self._current_receiver()
            if receiver is None:
                return message
            receiver(message)

    def _current_receiver(self) -> Callable[[bytes], None] | None:
        return self._receiver  # read again after an await (set_receiver may have run)

    async def close(self) -> None:
        self._wake()
        await super().close()

    # -- internals -------------------------------------------------------------------------

    def _deliver(self) -> None:
        """Hand the binary messages at the head of aiohttp's queue to the receiver."""
        ws = self._ws
        queue: Any = ws._reader
        buffer = queue._buffer
        while buffer:
            receiver = self._receiver
            if receiver is None or ws.closed or ws._waiting:
                return
            head = buffer[0][0]
            if head.type is not WSMsgType.BINARY or len(head.data) > PUSH_MAX:
                self._wake()  # for receive(): aiohttp's own path (see PUSH_MAX)
                return
            if self._paused:
                return
            receiver(_take(queue).data)
        if queue.is_eof() or queue.exception() is not None:
            self._wake()

    def _needs_aiohttp(self) -> bool:
        """The end, an error or a control message (even while paused), or a bulk message."""
        ws = self._ws
        queue: Any = ws._reader
        if queue.is_eof() or queue.exception() is not None or ws.closed:
            return True
        buffer = queue._buffer
        if not buffer:
            return False
        return not self._paused or buffer[0][0].type is not WSMsgType.BINARY

    async def _wait(self) -> None:
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
