"""The gateway listeners' pre-TLS stage: accept plain TCP, decide, then ``start_tls``.

Every TLS listener of the gateway (:class:`~cloud_gateway.tls_site.TlsSite`, and behind
HAProxy :class:`~cloud_gateway.proxy_site.ProxyProtocolSite`) accepts plain TCP and runs one
:class:`PreTlsProtocol` per connection:

1. behind HAProxy, read exactly the PROXY v2 header's bytes (a buffered protocol lends a
   buffer of the size still missing, so not one byte of the ClientHello is consumed), under
   a timeout; the header names the client, whose address counts from then on;
2. stop reading and ask the node's :class:`~cloud_gateway.tls_budget.TlsBudget` for a
   handshake place: none -> the TCP connection is closed at once, before any TLS work;
   queued -> the socket stays unread until a place is free (dropped, still without TLS
   work, if the peer gives up meanwhile or the queue wait runs out);
3. with a place, upgrade the same transport with ``loop.start_tls`` (handshake and
   close_notify bounded, ``[http] tls_*_timeout_s``), give the place back, and hand the TLS
   transport to aiohttp's handler. Behind HAProxy the handler sees a transport whose
   ``peername`` is the client's address.

A connection without a valid header is closed: no fallback, or any client could name its
own address.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from cloud_gateway.proxy_header import PREFIX_SIZE, ProxyHeaderError, body_length, parse_header
from cloud_gateway.tls_budget import TlsBudget, TlsClaim

__all__ = ["PreTlsProtocol", "TlsStage"]

_LOGGER = logging.getLogger(__name__)


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


class PreTlsProtocol(asyncio.BufferedProtocol):
    """One accepted connection before TLS: header (optional), budget, then TLS."""

    def __init__(self, stage: TlsStage) -> None:
        self._stage = stage
        self._buffer = bytearray(PREFIX_SIZE)
        self._filled = 0
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._claim: TlsClaim | None = None
        self._source: tuple[str, int] | None = None
        self._lost = False

    # -- asyncio.BufferedProtocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # create_server: a stream
        timeout_s = self._stage.header_timeout_s
        if timeout_s is None:
            peer = transport.get_extra_info("peername")
            self._ask(peer[0] if isinstance(peer, tuple) else "")
        else:
            self._timer = asyncio.get_running_loop().call_later(timeout_s, self._expire)

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
        self._source = header.source
        self._ask("" if header.source is None else header.source[0])

    def eof_received(self) -> bool:
        self._refuse("closed before the end of the header")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._cancel_timer()
        claim, self._claim = self._claim, None
        if claim is not None and not claim.running:  # queued: its place goes back
            claim.done()

    # -- the budget's TlsWaiter -----------------------------------------------------------

    def fileno(self) -> int:
        transport = self._transport
        if self._lost or transport is None or transport.is_closing():
            return -1
        sock = transport.get_extra_info("socket")
        return -1 if sock is None else int(sock.fileno())

    def start(self, claim: TlsClaim) -> None:
        transport = self._transport
        if transport is None:  # start never comes before connection_made
            claim.done()
            return
        stage = self._stage
        task = asyncio.get_running_loop().create_task(
            self._upgrade(transport, claim), name="tls-handshake"
        )
        stage.upgrades.add(task)
        task.add_done_callback(stage.upgrades.discard)

    def drop(self) -> None:
        self._claim = None
        if self._transport is not None:
            self._transport.abort()

    # -- internals ----------------------------------------------------------------------

    def _ask(self, source: str) -> None:
        transport = self._transport
        if transport is None:
            return
        transport.pause_reading()  # the ClientHello waits in the socket; start_tls reads it
        claim = self._stage.budget.ask(source, self)
        if claim is None:  # over budget: closed before any TLS work, the device backs off
            transport.abort()
        elif not claim.running:
            self._claim = claim  # queued: connection_lost must give the place back

    def _expire(self) -> None:
        self._timer = None
        self._refuse(f"no header within {self._stage.header_timeout_s:g} s")

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

    async def _upgrade(self, transport: asyncio.Transport, claim: TlsClaim) -> None:
        self._claim = None
        stage = self._stage
        relay = _SourceRelay()
        try:
            tls = await asyncio.get_running_loop().start_tls(
                transport,
                relay,
                stage.ssl_context,
                server_side=True,
                ssl_handshake_timeout=stage.handshake_timeout_s,
                ssl_shutdown_timeout=stage.close_timeout_s,
            )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            _LOGGER.debug("TLS handshake failed: %s", exc)
            transport.abort()
            return
        except asyncio.CancelledError:
            transport.abort()
            raise
        finally:
            claim.done()
        if tls is None:  # closed during the handshake
            return
        source = self._source
        relay.attach(
            stage.handler_factory(), tls if source is None else _SourceTransport(tls, source)
        )


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
            # replayed on attach; under TLS the answer is ignored (asyncio closes the
            # connection after the peer's close_notify) and True only logs a warning
            return False
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
