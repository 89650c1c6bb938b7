"""The device's WebSocket client: one asyncio protocol, wsproto for the upgrade, no aiohttp.

::

    transport = await connect("wss://gateway.example/tunnel/v1", ssl_context)
    session = DeviceSession(transport, ...)      # a MessageTransport like tunnel.ws

Why not aiohttp's client (ADR 0009): importing it costs a small hub ~14 MB of memory,
and every message passed aiohttp's reader and a task hop before the session saw it.
Here one :class:`asyncio.Protocol` is the whole client: ``loop.create_connection`` does
TCP and TLS (the device certificate comes with the given :class:`ssl.SSLContext`; a
connection below TLS 1.2 is dropped), wsproto (sans-IO, RFC 6455, over h11) writes the
upgrade request and checks the gateway's answer, and from then on the lean framing of
:mod:`tunnel.ws_frames` carries the messages. ``data_received`` hands every complete
binary message on at once: to the waiting :meth:`WebSocketClient.receive`, or, after
:meth:`WebSocketClient.set_receiver`, straight to a callback (the session's dispatch),
with no task in between.

Semantics are those of :class:`tunnel.ws.WebSocketTransport`: binary messages only (a
text message ends the session with close code 1003), a close frame or a lost connection
ends it with :class:`~tunnel.errors.SessionClosedError` (``clean`` for codes 1000/1001),
a message larger than ``max_message`` ends it with 1009. No compression is offered and
no WebSocket-level heartbeat is sent (the tunnel has PING/PONG frames); a server's ping
is answered. Client frames are masked with fresh random keys, as RFC 6455 requires.

Flow control: received messages nobody has taken yet are bounded: above
:data:`RECEIVE_HIGH_WATER` bytes the protocol stops reading the socket (TCP then pushes
back on the gateway) and resumes below :data:`RECEIVE_LOW_WATER`. A receiver callback
does the same with :meth:`WebSocketClient.pause_receiving`. Sending honours the
transport's ``pause_writing``/``resume_writing``: :meth:`WebSocketClient.send` waits
while the socket buffer is above its high-water mark, :meth:`WebSocketClient.send_nowait`
writes only when it need not wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.utilities import ProtocolError as WsProtocolError

from tunnel.errors import (
    ClosedBeforeTlsError,
    ProtocolError,
    SessionClosedError,
    UpgradeRefusedError,
)
from tunnel.transport import MAX_MESSAGE, stream_transport
from tunnel.ws_frames import (
    REFUSED,
    FrameError,
    FrameParser,
    KeySource,
    Opcode,
    encode,
    parse_close,
)

__all__ = [
    "CLOSE_TIMEOUT",
    "RECEIVE_HIGH_WATER",
    "RECEIVE_LOW_WATER",
    "MessageReceiver",
    "WebSocketClient",
    "connect",
]

RECEIVE_HIGH_WATER: Final = 1024 * 1024
"""Bytes of received, untaken messages above which the socket is no longer read."""
RECEIVE_LOW_WATER: Final = 256 * 1024
"""Reading resumes once the untaken messages are below this."""
CLOSE_TIMEOUT: Final = 5.0
"""Seconds a close waits for the gateway's close reply before dropping the connection."""

_CLEAN_CODES: Final = frozenset({1000, 1001})
_NO_STATUS: Final = 1005
_ABNORMAL: Final = 1006
_HEAD_LIMIT: Final = 64 * 1024
_REJECT_BODY_LIMIT: Final = 1024
_TLS_VERSIONS: Final = frozenset({"TLSv1.2", "TLSv1.3"})

MessageReceiver = Callable[[bytes], None]
"""Called from ``data_received`` with each complete binary message, in order."""


class WebSocketClient(asyncio.Protocol):
    """One client WebSocket as a :class:`~tunnel.transport.MessageTransport`.

    Made by :func:`connect`; the asyncio protocol methods are not for callers.
    """

    def __init__(self, url: str, *, max_message: int = MAX_MESSAGE) -> None:
        self.url = url
        self.max_message = max_message
        self._loop = asyncio.get_running_loop()
        self._handshake: WSConnection | None = WSConnection(ConnectionType.CLIENT)
        self._head = bytearray()
        self._parser: FrameParser | None = None  # set once the upgrade succeeded
        self._keys = KeySource()
        self._broken = False
        self._transport: asyncio.Transport | None = None
        self._upgraded: asyncio.Future[None] = self._loop.create_future()
        self._inbox: deque[bytes] = deque()
        self._inbox_bytes = 0
        self._receiver: MessageReceiver | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._end: SessionClosedError | None = None
        self._close_sent = False
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._lost = False
        self._abort_timer: asyncio.TimerHandle | None = None
        self._read_paused = False
        self._consumer_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self.close_code: int | None = None
        """The close code the gateway sent (1006 when the connection was lost)."""

    # -- MessageTransport ----------------------------------------------------------------

    async def send(self, message: bytes) -> None:
        """Send one binary message; waits while the socket buffer is full."""
        self._write(Opcode.BINARY, message)
        while self._write_paused and self._end is None:
            await self._drain()

    def send_nowait(self, message: bytes) -> bool:
        """Send at once if that needs no waiting; False (nothing sent) otherwise.

        :class:`SessionClosedError` if the WebSocket is closed.
        """
        if self._write_paused and self._end is None:
            return False
        self._write(Opcode.BINARY, message)
        return True

    async def receive(self) -> bytes:
        """The next binary message; :class:`SessionClosedError` at the end.

        While a receiver is set (:meth:`set_receiver`) it only waits for the end.
        """
        while not self._inbox:
            if self._end is not None:
                raise self._end
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = self._inbox.popleft()
        self._inbox_bytes -= len(message)
        if self._read_paused and self._inbox_bytes <= RECEIVE_LOW_WATER:
            self._update_reading()
        return message

    async def close(self) -> None:
        """Send a close frame (1000), wait briefly for the reply, close the connection."""
        transport = self._transport
        if transport is None or self._lost:
            return
        self._send_close(1000, "")
        if self._end is None:
            self._end = SessionClosedError("WebSocket closed by this end", clean=True)
        answered = self._closed.done()
        if not answered:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await asyncio.shield(self._closed)
            answered = self._closed.done()
            if not self._closed.done():
                self._closed.set_result(None)  # a second close() does not wait again
        if answered:
            transport.close()  # TLS close_notify, in the background
        else:
            transport.abort()  # the gateway did not answer: do not wait for it either
        self._wake()

    # -- push delivery and flow control --------------------------------------------------

    def set_receiver(self, receiver: MessageReceiver | None) -> None:
        """Deliver messages to ``receiver`` from ``data_received`` instead of the inbox.

        Messages already in the inbox are handed over first, in order.
        """
        self._receiver = receiver
        while receiver is not None and self._inbox and self._receiver is receiver:
            message = self._inbox.popleft()
            self._inbox_bytes -= len(message)
            receiver(message)
        self._update_reading()

    def pause_receiving(self) -> None:
        """The receiver is behind: stop reading the socket until :meth:`resume_receiving`."""
        self._consumer_paused = True
        self._update_reading()

    def resume_receiving(self) -> None:
        self._consumer_paused = False
        self._update_reading()

    @property
    def writable(self) -> bool:
        """:meth:`send_nowait` would write now (open, socket buffer not full)."""
        return not self._write_paused and self._end is None

    @property
    def buffered(self) -> int:
        """Received bytes not yet taken: complete messages plus a partial one."""
        partial = self._parser.buffered if self._parser is not None else 0
        return self._inbox_bytes + partial

    @property
    def reading_paused(self) -> bool:
        """The socket is not being read (the consumer is behind)."""
        return self._read_paused

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._transport

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stream = stream_transport(transport)
        if stream is None:
            raise TypeError("a WebSocket runs over a stream transport")
        self._transport = transport = stream
        parts = urlsplit(self.url)
        if parts.scheme == "wss":
            ssl_object = transport.get_extra_info("ssl_object")
            version = ssl_object.version() if ssl_object is not None else None
            if version not in _TLS_VERSIONS:
                error = ssl.SSLError(f"the gateway speaks {version}; TLS 1.2 or later is required")
                self._upgraded.set_exception(error)
                transport.abort()
                return
        host = parts.hostname or ""
        default_port = 443 if parts.scheme == "wss" else 80
        if parts.port is not None and parts.port != default_port:
            host = f"{host}:{parts.port}"
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        if self._handshake is not None:
            transport.write(self._handshake.send(Request(host=host, target=target)))

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            self._upgrade_data(data)
            return
        if self._broken:
            return
        try:
            items = parser.feed(data)
        except FrameError as exc:  # malformed: nothing after it can be read, not even a close
            self._broken = True
            self._fail(exc.code, exc.reason)
            if self._transport is not None:
                self._transport.close()
            return
        for opcode, payload in items:
            if opcode == Opcode.BINARY:
                if self._end is not None:
                    continue  # ended or closing: nothing more is delivered
                receiver = self._receiver
                if receiver is not None:
                    receiver(payload)
                else:
                    self._inbox.append(payload)
                    self._inbox_bytes += len(payload)
                    if self._inbox_bytes >= RECEIVE_HIGH_WATER and not self._read_paused:
                        self._update_reading()
                    self._wake()
            elif opcode == Opcode.CLOSE:
                if not self._closed.done():
                    self._on_close(payload)
            elif opcode == Opcode.PING:
                self._write_control(Opcode.PONG, payload)
            elif opcode == REFUSED:
                code, reason = int.from_bytes(payload[:2], "big"), payload[2:].decode()
                self._fail(code, reason)
            # PONG: we send no pings; an unsolicited pong is ignored (RFC 6455 5.5.3).

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if not self._upgraded.done():
            error = exc or ConnectionResetError("connection closed during the WebSocket upgrade")
            self._upgraded.set_exception(error)
        if self.close_code is None:
            self.close_code = _ABNORMAL
        if self._end is None:
            detail = f": {exc!r}" if exc else ""
            self._end = SessionClosedError(f"WebSocket connection lost{detail}")
        if not self._closed.done():
            self._closed.set_result(None)
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        self._write_paused = False
        self._wake_drain()
        self._wake()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    # -- upgrade -------------------------------------------------------------------------

    async def wait_upgraded(self) -> None:
        """Wait for the gateway's 101; :class:`UpgradeRefusedError` or ``OSError`` if not."""
        try:
            await self._upgraded
        except BaseException:
            self._abort()
            raise

    def _upgrade_data(self, data: bytes) -> None:
        """Collect the gateway's answer to the upgrade; wsproto checks it."""
        handshake = self._handshake
        if handshake is None or self._upgraded.done():
            return
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > _HEAD_LIMIT:
                self._upgrade_failed(ProtocolError(f"{self.url}: oversized upgrade answer"))
            return
        head, rest = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
        self._head.clear()
        try:
            handshake.receive_data(head)
            events = list(handshake.events())
        except (WsProtocolError, ValueError) as exc:
            # ValueError: wsproto decodes some header values without catching a non-ASCII byte
            # (UnicodeDecodeError in split_comma_header, found by fuzzing)
            error = ProtocolError(f"{self.url}: invalid WebSocket upgrade answer: {exc}")
            self._upgrade_failed(error)
            return
        for event in events:
            if isinstance(event, AcceptConnection):
                self._handshake = None
                self._parser = FrameParser(self.max_message)
                self._upgraded.set_result(None)
                if rest:
                    self.data_received(rest)
                return
            if isinstance(event, RejectConnection):
                body = rest[:_REJECT_BODY_LIMIT]
                self._upgrade_failed(UpgradeRefusedError(self.url, event.status_code, body))
                return
        self._upgrade_failed(ProtocolError(f"{self.url}: no WebSocket upgrade in the answer"))

    def _upgrade_failed(self, error: Exception) -> None:
        if not self._upgraded.done():
            self._upgraded.set_exception(error)
        self._abort()

    # -- internals -----------------------------------------------------------------------

    def _write(self, opcode: Opcode, message: bytes) -> None:
        if self._end is not None or self._close_sent or self._transport is None:
            raise SessionClosedError("WebSocket is closed", clean=self._clean())
        self._transport.write(encode(opcode, message, self._keys.next()))

    def _write_control(self, opcode: Opcode, payload: bytes) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing() and not self._close_sent:
            transport.write(encode(opcode, payload, self._keys.next()))

    def _send_close(self, code: int, reason: str) -> None:
        transport = self._transport
        if self._close_sent or self._parser is None or transport is None:
            return
        if transport.is_closing():
            return
        self._close_sent = True
        payload = b"" if code == _NO_STATUS else code.to_bytes(2, "big")
        payload += reason.encode("utf-8")[:120]
        transport.write(encode(Opcode.CLOSE, payload, self._keys.next()))

    async def _drain(self) -> None:
        if self._drain_waiter is None:
            self._drain_waiter = self._loop.create_future()
        await asyncio.shield(self._drain_waiter)

    def _wake_drain(self) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_close(self, payload: bytes) -> None:
        try:
            code, reason = parse_close(payload)
        except FrameError as exc:
            self._fail(exc.code, exc.reason)
            return
        self.close_code = code
        if not self._close_sent:
            self._send_close(code, "")  # echo the gateway's code (RFC 6455 5.5.1)
        if self._end is None:
            suffix = f": {reason}" if reason else ""
            message = f"WebSocket closed (code {code}){suffix}"
            self._end = SessionClosedError(message, clean=code in _CLEAN_CODES)
        if self._transport is not None:
            self._transport.close()
        if not self._closed.done():
            self._closed.set_result(None)
        self._wake()

    def _fail(self, code: int, reason: str) -> None:
        """End the session from this side: close frame with ``code``, then the connection."""
        if self._end is None:
            detail = "peer sent a text message" if code == 1003 else reason
            self._end = SessionClosedError(f"WebSocket: {detail}")
        self.close_code = code
        transport = self._transport
        if transport is not None and not self._close_sent and not transport.is_closing():
            self._send_close(code, reason)
            # The gateway answers and closes; if it does not, drop the line.
            self._abort_timer = self._loop.call_later(CLOSE_TIMEOUT, transport.abort)
        elif transport is not None:
            transport.close()
        self._wake()

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        behind = self._consumer_paused or (
            self._receiver is None and self._inbox_bytes >= RECEIVE_HIGH_WATER
        )
        resume = not self._consumer_paused and (
            self._receiver is not None or self._inbox_bytes <= RECEIVE_LOW_WATER
        )
        if behind and not self._read_paused:
            self._read_paused = True
            transport.pause_reading()
        elif resume and self._read_paused:
            self._read_paused = False
            transport.resume_reading()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _clean(self) -> bool:
        return self._end is not None and self._end.clean


async def connect(
    url: str, ssl_context: ssl.SSLContext | None, *, max_message: int = MAX_MESSAGE
) -> WebSocketClient:
    """Open ``url`` (``wss://host[:port]/path``) and upgrade it to a WebSocket.

    ``ssl_context`` verifies the gateway and carries the device certificate; it is
    required for ``wss://`` (``ws://``, plain TCP, is for tests and local set-ups).
    Errors: ``ssl.SSLError`` (TLS handshake failed, or TLS below 1.2),
    :class:`~tunnel.errors.ClosedBeforeTlsError` (the gateway closed the connection before
    the TLS handshake completed: busy), ``OSError`` (cannot connect, connection lost),
    :class:`~tunnel.errors.UpgradeRefusedError` (the gateway answered with an HTTP status
    instead of 101),
    :class:`~tunnel.errors.ProtocolError` (the answer is no valid upgrade). Apply your
    own timeout around the call.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"ws", "wss"} or not parts.hostname:
        raise ValueError(f"not a WebSocket URL: {url!r}")
    secure = parts.scheme == "wss"
    if secure and ssl_context is None:
        raise ValueError("wss:// needs an SSL context")
    port = parts.port or (443 if secure else 80)
    loop = asyncio.get_running_loop()
    client = WebSocketClient(url, max_message=max_message)
    try:
        await loop.create_connection(
            lambda: client,
            parts.hostname,
            port,
            ssl=ssl_context if secure else None,
            server_hostname=parts.hostname if secure else None,
        )
    except (ConnectionResetError, ssl.SSLEOFError) as exc:
        # TCP was accepted, then closed during the TLS handshake: the gateway is busy
        # (over its TLS handshake budget, ADR 0032); a refused connect is not caught here
        raise ClosedBeforeTlsError(f"{url}: closed before the TLS handshake ({exc})") from exc
    await client.wait_upgraded()  # aborts the connection if it fails or is cancelled
    return client
