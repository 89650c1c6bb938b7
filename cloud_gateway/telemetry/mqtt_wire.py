"""The part of MQTT 3.1.1 the gateway's fan-out speaks: publishing with QoS 1 (ADR 0011).

The gateway only ever publishes (QoS 1; retained for alert states) to its broker; it subscribes
to nothing.
That needs five packets of the standard (OASIS MQTT 3.1.1):

* CONNECT → CONNACK (clean session, keep-alive, optional user name and password),
  DISCONNECT at the end; TLS (and a client certificate) by the caller's SSL context;
* PUBLISH (QoS 1, packet id) → PUBACK (packet id);
* PINGREQ → PINGRESP while nothing else is sent.

:func:`connect` opens a connection and waits for the CONNACK; :meth:`MqttConnection.publish`
writes any number of PUBLISH packets with one ``transport.write``, and PUBACKs are handed to
``on_puback`` as they arrive, a burst at a time. What was not acknowledged when a connection
ends is the caller's to send again (the outbox keeps it). Everything else of MQTT (QoS 2,
subscriptions, wills, MQTT 5) is not needed and not implemented.

Fixed header of every packet::

     7   6   5   4   3   2   1   0
    +---------------+---+-------+---+
    |  packet type  |DUP|  QoS  |RET|   flags: PUBLISH only (QoS 1 = 0b010, RET 1 = retained)
    +---------------+---+-------+---+
    | remaining length: 1-4 bytes, 7 bits each, least significant first, bit 7 "more"  |
    +-----------------------------------------------------------------------------------+
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from collections.abc import Callable, Iterable
from typing import Final

from cloud_gateway.errors import GatewayError, StateError
from tunnel.transport import stream_transport

__all__ = [
    "MqttConnection",
    "MqttError",
    "PacketReader",
    "connect",
    "encode_connect",
    "encode_publish",
    "remaining_length",
]

CONNECT: Final = 0x10
CONNACK: Final = 0x20
PUBLISH_QOS1: Final = 0x32
RETAIN: Final = 0x01
PUBACK: Final = 0x40
PINGREQ: Final = b"\xc0\x00"
PINGRESP: Final = 0xD0
DISCONNECT: Final = b"\xe0\x00"
MAX_REMAINING: Final = 268_435_455
"""Largest remaining length the four length bytes can say (256 MiB - 1)."""
MAX_PACKET_ID: Final = 0xFFFF
MAX_INBOUND: Final = 1024
"""Largest packet body accepted from the broker: a publisher only gets CONNACK, PUBACK and
PINGRESP (2 bytes or none); anything long is an error, not something to buffer."""

_U16: Final = struct.Struct("!H")
_CONNACK_REASONS: Final = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}


class MqttError(GatewayError):
    """The broker refused us, or sent what MQTT 3.1.1 does not allow here."""


def remaining_length(n: int) -> bytes:
    """The variable-length encoding of ``n`` (MQTT 3.1.1, 2.2.3)."""
    if not 0 <= n <= MAX_REMAINING:
        raise MqttError(f"packet too large for MQTT: {n} bytes")
    if n < 128:
        return bytes((n,))
    out = bytearray()
    while True:
        digit, n = n & 0x7F, n >> 7
        out.append(digit | 0x80 if n else digit)
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > 0xFFFF:
        raise MqttError("MQTT strings are at most 65,535 bytes")
    return _U16.pack(len(data)) + data


def encode_connect(
    client_id: str, keepalive_s: int, *, username: str = "", password: str = ""
) -> bytes:
    """CONNECT, protocol level 4 (3.1.1), clean session, no will; user name and password
    when given (a password only with a user name, as 3.1.1 requires)."""
    if not 0 <= keepalive_s <= 0xFFFF:
        raise MqttError("keep-alive must be 0..65535 s")
    if password and not username:
        raise MqttError("an MQTT password needs a user name")
    flags = 0x02 | (0x80 if username else 0) | (0x40 if password else 0)
    payload = _string(client_id)
    if username:
        payload += _string(username)
    if password:
        payload += _string(password)
    body = _string("MQTT") + bytes((4, flags)) + _U16.pack(keepalive_s) + payload
    return bytes((CONNECT,)) + remaining_length(len(body)) + body


def encode_publish(topic: bytes, packet_id: int, payload: bytes, *, retain: bool = False) -> bytes:
    """PUBLISH with QoS 1, retained if asked; ``topic`` UTF-8 encoded already.

    A retained message with an empty payload clears the topic's retained message (MQTT 3.1.1
    section 3.3.1.3).
    """
    if not 0 < packet_id <= MAX_PACKET_ID:
        raise MqttError(f"packet id out of range: {packet_id}")
    size = 2 + len(topic) + 2 + len(payload)
    return b"".join(
        (
            bytes((PUBLISH_QOS1 | RETAIN if retain else PUBLISH_QOS1,)),
            remaining_length(size),
            _U16.pack(len(topic)),
            topic,
            _U16.pack(packet_id),
            payload,
        )
    )


class PacketReader:
    """Splits the bytes from the broker into ``(first byte, body)`` packets."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Complete packets in ``data`` (and what came before); MqttError if malformed."""
        buffer = self._buffer + data if self._buffer else data
        packets: list[tuple[int, bytes]] = []
        pos, end = 0, len(buffer)
        while end - pos >= 2:
            first = buffer[pos]
            length, shift, cursor = 0, 0, pos + 1
            while True:
                if cursor >= end:
                    self._buffer = buffer[pos:]
                    return packets
                byte = buffer[cursor]
                cursor += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
                if shift > 21:
                    raise MqttError("malformed remaining length")
            if length > MAX_INBOUND:
                raise MqttError(f"a {length}-byte packet from the broker; a publisher gets acks")
            if end - cursor < length:
                break
            packets.append((first, buffer[cursor : cursor + length]))
            pos = cursor + length
        self._buffer = buffer[pos:]
        return packets


class MqttConnection(asyncio.Protocol):
    """One connection to the broker, after :func:`connect`; publishes, reports PUBACKs."""

    def __init__(self, on_puback: Callable[[list[int]], None], keepalive_s: int) -> None:
        self._on_puback = on_puback
        self._keepalive = keepalive_s
        self._reader = PacketReader()
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._connack: asyncio.Future[None] = self._loop.create_future()
        self.closed: asyncio.Future[Exception | None] = self._loop.create_future()
        """Resolves (never raises) when the connection is gone: with the error, or None."""
        self._last_in = self._loop.time()
        self._last_out = self._last_in
        self._timer: asyncio.TimerHandle | None = None
        self._drain: asyncio.Future[None] | None = None
        self._paused = False

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stream = stream_transport(transport)  # uvloop's transports do not subclass asyncio's
        if stream is None:
            raise StateError(f"MQTT needs a stream transport, not {transport!r}")
        self._transport = stream

    def data_received(self, data: bytes) -> None:
        self._last_in = self._loop.time()
        acked: list[int] = []
        try:
            for first, body in self._reader.feed(data):
                if first == PUBACK and len(body) == 2:
                    acked.append(_U16.unpack(body)[0])
                else:
                    self._other_packet(first, body)
        except MqttError as exc:
            self._fail(exc)
            return
        if acked:
            self._on_puback(acked)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._timer is not None:
            self._timer.cancel()
        error = exc or ConnectionResetError("the broker closed the connection")
        if not self._connack.done():
            self._connack.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(exc)
        self._wake_drain()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_drain()

    # -- use -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    async def handshake(self, client_id: str, *, username: str = "", password: str = "") -> None:
        """CONNECT, then wait for the CONNACK (``MqttError`` if the broker refuses)."""
        transport = self._transport
        if transport is None:
            raise ConnectionResetError("the MQTT connection is closed")
        transport.write(
            encode_connect(client_id, self._keepalive, username=username, password=password)
        )
        self._last_out = self._loop.time()
        await self._connack

    def publish(self, packets: Iterable[bytes]) -> None:
        """Send PUBLISH packets (:func:`encode_publish`) in one write."""
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the MQTT connection is closed")
        transport.write(b"".join(packets))
        self._last_out = self._loop.time()

    async def drain(self) -> None:
        """Wait while the socket buffer is above its high-water mark."""
        while self._paused and self._transport is not None:
            if self._drain is None:
                self._drain = self._loop.create_future()
            await asyncio.shield(self._drain)

    def close(self) -> None:
        """DISCONNECT and close (what is unacknowledged stays the caller's)."""
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(DISCONNECT)
            transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- internals -------------------------------------------------------------------------

    def _other_packet(self, first: int, body: bytes) -> None:
        if first == PINGRESP and not body:
            return
        if first == CONNACK and len(body) == 2 and not self._connack.done():
            self._on_connack(body[1])
            return
        raise MqttError(f"unexpected packet {first:#04x} from the broker")

    def _on_connack(self, code: int) -> None:
        if code:
            reason = _CONNACK_REASONS.get(code, f"code {code}")
            self._connack.set_exception(MqttError(f"the broker refused the connection: {reason}"))
            self.abort()
            return
        self._connack.set_result(None)
        if self._keepalive:
            self._timer = self._loop.call_later(self._keepalive / 2, self._tick)

    def _tick(self) -> None:
        """Every half keep-alive: ping when idle; give up when the broker went silent."""
        now = self._loop.time()
        transport = self._transport
        if transport is None:
            return
        if now - self._last_in > self._keepalive * 1.5:
            self._fail(TimeoutError(f"no answer from the broker for {now - self._last_in:.0f} s"))
            return
        if now - self._last_out >= self._keepalive / 2:
            transport.write(PINGREQ)
            self._last_out = now
        self._timer = self._loop.call_later(self._keepalive / 2, self._tick)

    def _fail(self, exc: Exception) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)
        if not self._connack.done():
            self._connack.set_exception(exc)
        self.abort()

    def _wake_drain(self) -> None:
        waiter, self._drain = self._drain, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def connect(
    host: str,
    port: int,
    *,
    client_id: str,
    on_puback: Callable[[list[int]], None],
    keepalive_s: int = 30,
    timeout_s: float = 10.0,
    tls: ssl.SSLContext | None = None,
    username: str = "",
    password: str = "",
) -> MqttConnection:
    """Open a connection (over TLS with ``tls``) and wait for the broker's CONNACK
    (``MqttError`` if it refuses, e.g. wrong credentials)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout_s):
        _, connection = await loop.create_connection(
            lambda: MqttConnection(on_puback, keepalive_s),
            host,
            port,
            ssl=tls,
            server_hostname=host if tls is not None else None,
        )
        try:
            await connection.handshake(client_id, username=username, password=password)
        except BaseException:
            connection.abort()
            raise
    return connection
