"""A tunnel stream joined to a TCP connection by callbacks, with no task per direction.

::

    await splice_tcp(stream, "127.0.0.1", 80)      # device: connect, copy both ways, done
    splice = await connect_tcp("127.0.0.1", 80)    # the same in two steps (OPEN_FAIL
    await splice.run(stream)                       # for a failed connect in between)

    # gateway side, for connections a server accepted: reading starts once attached
    protocol = TcpSplice()                         # as the protocol of the connection
    protocol.attach(await session.open_stream(target))
    await protocol.wait_closed()

Bytes from the peer go from the session's dispatch straight into the TCP transport
(:meth:`~tunnel.streams.Stream.attach`); bytes from TCP go from ``data_received`` into
the stream and, when the session's transport is free, out at once
(:meth:`~tunnel.streams.Stream.write_now`). Flow control is kept on both sides:

* towards TCP, the stream grants the peer credit as bytes are handed to the transport,
  but not while the transport's buffer is above its high-water mark
  (``pause_writing``): the peer can then have at most one window in flight to us;
* from TCP, what the stream cannot take (no credit, send queue full) stays here and the
  socket is not read until the stream calls back (``on_writable``).

Half-closes pass through (TCP EOF -> CLOSE, CLOSE -> ``write_eof``); the connection is
closed when the stream is finished both ways, aborted when the stream is reset, and a
connection lost with an error resets the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from tunnel.errors import StreamError
from tunnel.streams import Stream
from tunnel.transport import stream_transport

__all__ = ["TcpSplice", "connect_tcp", "splice_tcp"]


class TcpSplice(asyncio.Protocol):
    """The protocol of one TCP connection spliced to one stream."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._stream: Stream | None = None
        self._pending = b""  # read from TCP, not yet taken by the stream
        self._tcp_eof = False
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def stream(self) -> Stream | None:
        return self._stream

    @property
    def transport(self) -> asyncio.Transport | None:
        """The TCP connection (for its buffer sizes, addresses)."""
        return self._transport

    def attach(self, stream: Stream) -> None:
        """Start copying between the connection and ``stream`` (answers OPEN_OK)."""
        self._stream = stream
        stream.on_writable = self._on_writable
        stream.attach(self)
        if self._closed.done():  # reset or aborted before attach (uvloop reads at once)
            stream.reset("connection lost before the stream was attached")
            return
        if self._pending:  # read before attach (see connection_made): send it first
            self._on_writable()
            return
        if self._tcp_eof:
            stream.write_eof_now()
            return
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()

    async def run(self, stream: Stream) -> None:
        """:meth:`attach` ``stream`` and return when both are done; cancelling drops both."""
        self.attach(stream)
        try:
            await self.wait_closed()
        except asyncio.CancelledError:
            self.abort("cancelled")
            raise

    async def wait_closed(self) -> None:
        """Return once the connection is closed (the stream is finished or reset by then)."""
        await asyncio.shield(self._closed)

    def abort(self, reason: str) -> None:
        """Reset the stream and drop the connection."""
        if self._stream is not None:
            self._stream.reset(reason)
        if self._transport is not None:
            self._transport.abort()

    # -- TCP side ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stream = stream_transport(transport)
        if stream is None:
            raise TypeError("a splice needs a stream transport")
        self._transport = transport = stream
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._stream is None:
            # Until attach(). asyncio honours this; uvloop starts reading once this method
            # has returned, whatever it asked: what arrives then waits in _pending (and
            # data_received pauses reading for real).
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        stream = self._stream
        if stream is None or self._pending:
            self._pending += data
            if stream is None and self._transport is not None:
                self._transport.pause_reading()
            return
        try:
            taken = stream.write_now(data)
        except StreamError:
            self._drop()
            return
        if taken < len(data):
            self._pending = data[taken:]
            if self._transport is not None:
                self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._tcp_eof = True
        if not self._pending and self._stream is not None:
            self._stream.write_eof_now()
        return True  # keep our sending side open: the peer may still answer

    def pause_writing(self) -> None:
        if self._stream is not None:
            self._stream.hold_credit(True)

    def resume_writing(self) -> None:
        if self._stream is not None:
            self._stream.hold_credit(False)

    def connection_lost(self, exc: Exception | None) -> None:
        stream = self._stream
        if stream is not None and not stream.finished:
            if exc is not None:
                stream.reset(f"connection lost: {exc!r}")
            elif not self._tcp_eof:
                stream.reset("connection closed")
            else:
                stream.write_eof_now()
        if not self._closed.done():
            self._closed.set_result(None)

    # -- stream side (StreamReceiver) ----------------------------------------------------

    def stream_data(self, data: bytes) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def stream_eof(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not transport.can_write_eof():
            transport.close()
            return
        try:
            transport.write_eof()
        except OSError:
            # The TCP peer went away (reset) before the loop noticed: drop this connection,
            # which resets its stream; the tunnel and its other streams go on.
            transport.abort()

    def stream_ended(self, error: StreamError | None) -> None:
        transport = self._transport
        if transport is None:
            return
        if error is None:
            transport.close()  # after what is still buffered
        else:
            transport.abort()

    # -- internals -----------------------------------------------------------------------

    def _on_writable(self) -> None:
        stream = self._stream
        if not self._pending or stream is None:
            return
        if stream.finished:
            self._pending = b""
            return
        # write_now may send at once, and taking a frame calls this method again: that
        # nested call must find nothing pending, or it would queue the same bytes twice.
        pending, self._pending = self._pending, b""
        try:
            taken = stream.write_now(pending)
        except StreamError:
            self._drop()
            return
        self._pending = pending[taken:]
        if self._pending:
            return
        if self._tcp_eof:
            stream.write_eof_now()
        elif self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def _drop(self) -> None:
        self._pending = b""
        if self._transport is not None:
            self._transport.abort()


async def connect_tcp(host: str, port: int) -> TcpSplice:
    """Connect to ``host:port``; the connection is not read until :meth:`TcpSplice.run`.

    A failed connect raises (``OSError``, ``TimeoutError`` under the caller's timeout), so
    that a stream handler can answer OPEN_FAIL.
    """
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(TcpSplice, host, port)
    return protocol


async def splice_tcp(stream: Stream, host: str, port: int) -> None:
    """Connect to ``host:port`` and splice it to ``stream`` until both are done."""
    await (await connect_tcp(host, port)).run(stream)
