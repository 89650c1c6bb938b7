"""The gateway listeners' pre-TLS stage: accept the bare socket, decide, then TLS.

Every TLS listener of the gateway (:class:`~cloud_gateway.tls_site.TlsSite`, and behind
HAProxy :class:`~cloud_gateway.proxy_site.ProxyProtocolSite`) accepts on its listening socket
itself (:class:`TlsAcceptor`) and runs one :class:`PreTlsConnection` per accepted socket:

1. behind HAProxy, read exactly the PROXY v2 header's bytes from the socket (``recv_into``
   of the size still missing, so not one byte of the ClientHello is consumed), under a
   timeout; the header names the client, whose address counts from then on;
2. ask the node's :class:`~cloud_gateway.tls_budget.TlsBudget` for a handshake place: none
   -> the socket is closed at once, before any TLS work; queued -> the socket stays unread
   until a place is free (dropped, still without TLS work, if the peer gives up meanwhile
   or the queue wait runs out);
3. with a place, hand the socket to ``loop.connect_accepted_socket`` with the gateway's SSL
   context (handshake and close_notify bounded, ``[http] tls_*_timeout_s``), give the place
   back when the handshake ends, and aiohttp's handler gets the TLS transport. Behind
   HAProxy the handler sees a transport whose ``peername`` is the client's address.

No transport exists before TLS: an event loop that starts reading a new transport after
``connection_made`` whatever the protocol asked (uvloop does; ADR 0027) cannot consume the
ClientHello before the TLS layer gets the socket.

A connection without a valid header is closed: no fallback, or any client could name its
own address.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from cloud_gateway.proxy_header import PREFIX_SIZE, ProxyHeaderError, body_length, parse_header
from cloud_gateway.tls_budget import TlsBudget, TlsClaim

__all__ = ["PreTlsConnection", "TlsAcceptor", "TlsStage"]

_LOGGER = logging.getLogger(__name__)

#: accept errors that mean "out of resources": stop accepting for a while (as asyncio does)
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: how long the acceptor pauses after such an error
ACCEPT_RETRY_DELAY_S = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsStage:
    """What every connection of one listener shares."""

    handler_factory: Callable[[], asyncio.Protocol]
    ssl_context: ssl.SSLContext
    budget: TlsBudget
    handshake_timeout_s: float
    close_timeout_s: float
    header_timeout_s: float | None
    """Read a PROXY v2 header first, within this many seconds; None: no header."""
    upgrades: set[asyncio.Task[None]]
    """Handshakes running now (cancelled when the listener stops)."""


class TlsAcceptor(asyncio.AbstractServer):
    """Accepts on one listening socket and gives each connection its pre-TLS stage.

    Stands where aiohttp's site keeps its ``asyncio.Server``.
    """

    def __init__(self, sock: socket.socket, stage: TlsStage, *, backlog: int) -> None:
        self._sock = sock
        self._stage = stage
        self._backlog = backlog
        self._loop = asyncio.get_running_loop()
        self._retry: asyncio.TimerHandle | None = None
        self._serving = False

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._sock.fileno() == -1 else (self._sock,)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving

    async def start_serving(self) -> None:
        """Listen and accept from now on."""
        if self._serving:
            return
        self._sock.setblocking(False)
        self._sock.listen(self._backlog)
        self._serving = True
        self._loop.add_reader(self._sock.fileno(), self._accept)

    async def serve_forever(self) -> None:
        await self.start_serving()
        await asyncio.Future()  # until cancelled

    async def wait_closed(self) -> None:
        """Nothing to wait for: accepted connections are not tracked here."""

    def close(self) -> None:
        """Stop accepting and close the listening socket (connections stay)."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._serving:
            self._serving = False
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()

    def _accept(self) -> None:
        for _ in range(self._backlog):  # at most a listen queue's worth per wake-up
            try:
                conn, address = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in _RESOURCE_ERRORS:
                    raise
                _LOGGER.warning("accepting paused for %g s: %s", ACCEPT_RETRY_DELAY_S, exc)
                self._loop.remove_reader(self._sock.fileno())
                self._serving = False
                self._retry = self._loop.call_later(ACCEPT_RETRY_DELAY_S, self._resume)
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            PreTlsConnection(self._stage, conn, address).begin()

    def _resume(self) -> None:
        self._retry = None
        if self._sock.fileno() != -1:
            self._serving = True
            self._loop.add_reader(self._sock.fileno(), self._accept)


class PreTlsConnection:
    """One accepted socket before TLS: header (optional), budget, then TLS."""

    def __init__(self, stage: TlsStage, sock: socket.socket, address: Any) -> None:
        self._stage = stage
        self._sock = sock
        self._peer = address
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray(PREFIX_SIZE)
        self._filled = 0
        self._reading = False
        self._timer: asyncio.TimerHandle | None = None
        self._source: tuple[str, int] | None = None
        self._upgrading = False

    def begin(self) -> None:
        """Read the header first, or ask for a place at once."""
        timeout_s = self._stage.header_timeout_s
        if timeout_s is None:
            self._ask(self._peer[0] if isinstance(self._peer, tuple) else "")
            return
        self._timer = self._loop.call_later(timeout_s, self._expire)
        self._reading = True
        self._loop.add_reader(self._sock.fileno(), self._read_header)

    # -- the budget's TlsWaiter -----------------------------------------------------------

    def fileno(self) -> int:
        return self._sock.fileno()

    def start(self, claim: TlsClaim) -> None:
        stage = self._stage
        task = self._loop.create_task(self._upgrade(claim), name="tls-handshake")
        stage.upgrades.add(task)
        task.add_done_callback(stage.upgrades.discard)
        task.add_done_callback(lambda _: self._unstarted(claim))

    def drop(self) -> None:
        self._close()

    # -- internals ----------------------------------------------------------------------

    def _read_header(self) -> None:
        view = memoryview(self._buffer)[self._filled :]
        try:
            nbytes = self._sock.recv_into(view, len(view))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._refuse(f"{exc.__class__.__name__} before the end of the header")
            return
        if nbytes == 0:
            self._refuse("closed before the end of the header")
            return
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
        self._stop_reading()
        self._cancel_timer()
        self._source = header.source
        self._ask("" if header.source is None else header.source[0])

    def _ask(self, source: str) -> None:
        # the ClientHello waits in the socket; the TLS layer reads it
        if self._stage.budget.ask(source, self) is None:
            self._close()  # over budget: closed before any TLS work, the device backs off

    def _expire(self) -> None:
        self._timer = None
        self._refuse(f"no header within {self._stage.header_timeout_s:g} s")

    def _refuse(self, reason: str) -> None:
        _LOGGER.warning("connection from %s refused: PROXY header: %s", self._peer, reason)
        self._close()

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._sock.fileno())

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close(self) -> None:
        self._stop_reading()
        self._cancel_timer()
        self._sock.close()

    def _unstarted(self, claim: TlsClaim) -> None:
        """A handshake task cancelled before its first step (the listener stopped) ran none
        of :meth:`_upgrade`: its socket and its place are given back here."""
        if not self._upgrading:
            self._sock.close()
            claim.done()

    async def _upgrade(self, claim: TlsClaim) -> None:
        self._upgrading = True
        stage = self._stage
        source = self._source
        factory: Callable[[], asyncio.Protocol] = stage.handler_factory
        if source is not None:
            factory = _with_source(stage.handler_factory, source)
        try:
            await self._loop.connect_accepted_socket(
                factory,
                self._sock,
                ssl=stage.ssl_context,
                ssl_handshake_timeout=stage.handshake_timeout_s,
                ssl_shutdown_timeout=stage.close_timeout_s,
            )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            _LOGGER.debug("TLS handshake failed: %s", exc)
            self._sock.close()
        except asyncio.CancelledError:
            self._sock.close()
            raise
        finally:
            claim.done()


def _with_source(
    factory: Callable[[], asyncio.Protocol], source: tuple[str, int]
) -> Callable[[], asyncio.Protocol]:
    return lambda: _SourceProtocol(factory(), source)


class _SourceProtocol(asyncio.Protocol):
    """The handler behind HAProxy: its transport answers the header's client address."""

    def __init__(self, inner: asyncio.Protocol, source: tuple[str, int]) -> None:
        self._inner = inner
        self._source = source

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tls = cast(asyncio.Transport, transport)  # connect_accepted_socket: a stream
        self._inner.connection_made(_SourceTransport(tls, self._source))

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
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
