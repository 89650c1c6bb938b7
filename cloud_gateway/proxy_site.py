"""An aiohttp site that reads a PROXY protocol v2 header before TLS (``[http] proxy_protocol``).

Behind HAProxy in TCP mode every TCP peer is HAProxy. With ``send-proxy-v2`` HAProxy opens
each connection with a header naming the client (:mod:`cloud_gateway.proxy_header`). This
site listens without TLS; per connection a :class:`_HeaderReader` reads exactly the header's
bytes (a buffered protocol lends a buffer of the size still missing, so not one byte of the
TLS ClientHello is consumed), under a timeout, then upgrades the same transport with
``loop.start_tls`` and the gateway's usual SSL context (client certificates included). The
aiohttp handler then sees a transport whose ``peername`` is the client's address, so
``request.remote``, the tunnel HandshakeGate and every per-source limit count real clients;
``ssl_object`` and everything else come from the TLS transport unchanged. A connection
without a valid header is closed: no fallback, or any client could name its own address.
The TLS handshake and the wait for the client's close_notify are bounded as on the plain
listener (:mod:`cloud_gateway.tls_site`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any, cast

from aiohttp import web

from cloud_gateway.proxy_header import PREFIX_SIZE, ProxyHeaderError, body_length, parse_header
from cloud_gateway.tls_site import TlsSite

__all__ = ["ProxyProtocolSite"]

_LOGGER = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 5.0
"""How long a new connection may take to send its header (HAProxy sends it at once)."""


class ProxyProtocolSite(TlsSite):
    """:class:`~cloud_gateway.tls_site.TlsSite` whose connections start with a PROXY v2 header."""

    __slots__ = ("_header_timeout_s", "_upgrades")

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        *,
        header_timeout_s: float = HEADER_TIMEOUT_S,
        ssl_context: ssl.SSLContext,
        tls_close_timeout_s: float,
        tls_handshake_timeout_s: float,
    ) -> None:
        super().__init__(
            runner,
            sock,
            ssl_context=ssl_context,
            tls_close_timeout_s=tls_close_timeout_s,
            tls_handshake_timeout_s=tls_handshake_timeout_s,
        )
        self._header_timeout_s = header_timeout_s
        self._upgrades: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen; every accepted connection reads its header, then speaks TLS."""
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        handler_factory = self._runner.server
        ssl_context = self._ssl_context
        if handler_factory is None or ssl_context is None:  # set in __init__ and setup()
            raise RuntimeError("runner not set up")

        def reader() -> _HeaderReader:
            return _HeaderReader(
                handler_factory,
                ssl_context,
                self._header_timeout_s,
                self._upgrades,
                (self.tls_handshake_timeout_s, self.tls_close_timeout_s),
            )

        self._server = await loop.create_server(reader, sock=self._sock, backlog=self._backlog)

    async def stop(self) -> None:
        """Stop listening; connections still in their header or handshake are dropped."""
        for task in list(self._upgrades):
            task.cancel()
        await super().stop()


class _HeaderReader(asyncio.BufferedProtocol):
    """Reads the header of one connection, then hands it over TLS to aiohttp."""

    def __init__(
        self,
        handler_factory: Callable[[], asyncio.Protocol],
        ssl_context: ssl.SSLContext,
        timeout_s: float,
        upgrades: set[asyncio.Task[None]],
        tls_timeouts_s: tuple[float, float],
    ) -> None:
        self._handler_factory = handler_factory
        self._ssl_context = ssl_context
        self._timeout_s = timeout_s
        self._upgrades = upgrades
        self._tls_timeouts_s = tls_timeouts_s
        """The TLS handshake's and the close_notify's bounds."""
        self._buffer = bytearray(PREFIX_SIZE)
        self._filled = 0
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # create_server: a stream
        self._timer = asyncio.get_running_loop().call_later(self._timeout_s, self._expire)

    def get_buffer(self, sizehint: int) -> memoryview:
        # exactly what is missing: the bytes after the header stay in the socket for TLS
        return memoryview(self._buffer)[self._filled :]

    def buffer_updated(self, nbytes: int) -> None:
        self._filled += nbytes
        if self._filled < len(self._buffer):
            return
        try:
            if len(self._buffer) == PREFIX_SIZE:
                rest = body_length(bytes(self._buffer))
                if rest:
                    self._buffer = self._buffer + bytearray(rest)
                    return
            header = parse_header(bytes(self._buffer))
        except ProxyHeaderError as exc:
            self._refuse(str(exc))
            return
        self._cancel_timer()
        transport = self._transport
        if transport is None:  # buffer_updated never comes before connection_made
            return
        transport.pause_reading()  # start_tls takes over reading
        task = asyncio.get_running_loop().create_task(
            self._upgrade(transport, header.source), name="proxy-protocol-tls"
        )
        self._upgrades.add(task)
        task.add_done_callback(self._upgrades.discard)

    def eof_received(self) -> bool:
        self._refuse("closed before the end of the header")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()

    def _expire(self) -> None:
        self._timer = None
        self._refuse(f"no header within {self._timeout_s:g} s")

    def _refuse(self, reason: str) -> None:
        self._cancel_timer()
        peer = None if self._transport is None else self._transport.get_extra_info("peername")
        _LOGGER.warning("connection from %s refused: PROXY header: %s", peer, reason)
        if self._transport is not None:
            self._transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _upgrade(self, transport: asyncio.Transport, source: tuple[str, int] | None) -> None:
        relay = _SourceRelay()
        try:
            tls = await asyncio.get_running_loop().start_tls(
                transport,
                relay,
                self._ssl_context,
                server_side=True,
                ssl_handshake_timeout=self._tls_timeouts_s[0],
                ssl_shutdown_timeout=self._tls_timeouts_s[1],
            )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            _LOGGER.info("TLS handshake after the PROXY header failed: %s", exc)
            transport.abort()
            return
        except asyncio.CancelledError:
            transport.abort()
            raise
        if tls is None:  # closed during the handshake
            return
        relay.attach(self._handler_factory(), _SourceTransport(tls, source))


class _SourceRelay(asyncio.Protocol):
    """The TLS layer's application protocol: holds what arrives until aiohttp is attached.

    ``start_tls`` may deliver the first decrypted bytes before it returns the transport that
    the handler's ``connection_made`` needs; they wait here and are replayed in order.
    """

    def __init__(self) -> None:
        self._inner: asyncio.Protocol | None = None
        self._pending: list[bytes] = []
        self._eof = False
        self._lost: tuple[Exception | None] | None = None

    def attach(self, inner: asyncio.Protocol, transport: asyncio.Transport) -> None:
        self._inner = inner
        inner.connection_made(transport)
        for data in self._pending:
            inner.data_received(data)
        self._pending.clear()
        if self._eof and not inner.eof_received():
            transport.close()
        if self._lost is not None:
            inner.connection_lost(self._lost[0])

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            self._pending.append(data)
        else:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self._inner is None:
            self._eof = True
            return True  # decided on attach
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is None:
            self._lost = (exc,)
        else:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


class _SourceTransport(asyncio.Transport):
    """The TLS transport, answering the header's client address as ``peername``."""

    def __init__(self, inner: asyncio.Transport, source: tuple[str, int] | None) -> None:
        super().__init__()
        self._inner = inner
        self._source = source

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername" and self._source is not None:
            return self._source
        return self._inner.get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def close(self) -> None:
        self._inner.close()

    def abort(self) -> None:
        self._inner.abort()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._inner.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self._inner.writelines(list_of_data)

    def write_eof(self) -> None:
        self._inner.write_eof()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()
