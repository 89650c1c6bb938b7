"""Remote access across nodes: a browser's request for a device whose tunnel another node holds.

The node that took the browser's request (the *entry* node) checks it as always (session,
account, entitlement), finds the holder in the tunnel directory and sends the request over a
connection to the holder's internal listener, authenticated both ways with fleet certificates
(:mod:`cloud_gateway.fleet.tls`). One exchange on a connection:

    entry → holder   {"device": 7, "target": "webui", "session": 12, "from": "gw1"}\\n
                     then at once the request's frames (pipelined: no waiting for the answer)
    holder → entry   OK\\n                 (the holder opened a stream in the device's tunnel)
                     or ERR offline|unreachable|bad-request\\n  and the holder closes
    both ways        frames: 4-byte length, bytes; length 0 ends that direction

The entry node does not wait for the holder's answer before sending the request: it keeps
what it sent before the answer (up to ``EARLY_LIMIT`` bytes; a longer upload waits for the
answer) and, should the holder answer that the tunnel is no longer there (or a kept
connection turn out closed), sends the head and those bytes again to the node the directory
names now. A refusal closes the connection (the frames behind it are not read). A forwarded
request thus costs one round trip between the nodes, not two. The holder opens the device's
stream as a local request does, then copies frames into the tunnel stream and the stream into
frames as they come (flow control: the tunnel's credit on one side, TCP on the other; no body
is held whole). When both directions have ended cleanly the connection carries the next
exchange: the entry node keeps it for its next request to that holder, so the TLS handshake
is paid once per pair of nodes, not per request. A reset (either side) drops the connection.
The entry node runs its usual HTTP or upgrade proxy over :class:`RelayStream` (it reads and
writes like a tunnel stream), so pages, downloads and WebSockets pass unchanged; a refusal
shows there as :class:`RelayDeniedError` (the denial page).

The audit is kept on both nodes: the entry node counts the request into the browser's remote
session (as for a local tunnel); the holder adds it to ``remote_relays`` (session, entry node,
tunnel node, bytes), gathering the exchanges of half a second into one write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cloud_gateway.errors import GatewayError
from cloud_gateway.fleet.tls import FLEET_PEER_NAME, FleetTls
from cloud_gateway.remote.gate import Denial
from cloud_gateway.remote.repository_relays import RelayAuditRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tunnel.clock import Clock
from tunnel.errors import OpenFailedError, SessionClosedError, StreamError
from tunnel.streams import Stream
from tunnel.tasks import run_together

__all__ = ["EARLY_LIMIT", "RelayClient", "RelayDeniedError", "RelayServer", "RelayStream"]

_LOGGER = logging.getLogger(__name__)
_HEAD_LIMIT: Final = 4096
_CHUNK: Final = 64 * 1024
_LENGTH = struct.Struct("!I")
_END: Final = _LENGTH.pack(0)
_IDLE_S: Final = 300.0
"""A kept connection unused this long is closed by the holder."""
_LINGER_S: Final = 5.0
"""How long a refusing holder waits for the entry node to drop the connection."""
EARLY_LIMIT: Final = 64 * 1024
"""Request bytes the entry node sends before the holder's answer (kept for a resend)."""
_ANSWERS: Final = {b"ERR offline\n": Denial.OFFLINE}

_AUDIT_DELAY_S: Final = 0.5
_OPEN_TIMEOUT_S: Final = 10.0
"""How long the holder waits for the device to take a forwarded stream (as a local open)."""
"""The holder writes its audit this long after the first exchange not yet written."""

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Relocator = Callable[[], Awaitable[str | None]]
"""The holder's address looked up afresh (None: no other node holds the tunnel)."""


@dataclass(slots=True, kw_only=True)
class _Traffic:
    """Forwarded exchanges of one session from one entry node, not audited yet."""

    first_at: datetime
    last_at: datetime
    requests: int = 0
    to_device: int = 0
    from_device: int = 0


class RelayDeniedError(GatewayError, ConnectionError):
    """The holding node refused the forwarded exchange (the tunnel is gone or unreachable)."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(f"relay refused: {denial.value}")
        self.denial = denial


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    """The next frame's bytes (b"" for the end frame); IncompleteReadError at EOF."""
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return await reader.readexactly(length) if length else b""


async def _refuse(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: bytes
) -> bool:
    """Answer a refusal and end the connection once the entry node dropped it: the frames it
    sent behind the head are read and thrown away (closing with them unread would reset the
    connection and could lose the answer)."""
    writer.write(answer)
    with contextlib.suppress(ConnectionError, TimeoutError):
        await writer.drain()
        async with asyncio.timeout(_LINGER_S):
            while await reader.read(_CHUNK):
                pass
    return False


class RelayStream:
    """The entry node's end of one forwarded exchange; reads and writes like a tunnel stream.

    Until the holder's answer has come, what is written is also kept (up to ``EARLY_LIMIT``)
    so that the exchange can be sent again elsewhere; :meth:`read` waits for the answer.
    """

    def __init__(
        self,
        client: RelayClient,
        address: str,
        connection: _Connection,
        head: bytes,
        *,
        reused: bool,
        relocate: Relocator | None,
    ) -> None:
        self._client = client
        self._address = address
        self._reader, self._writer = connection
        self._head = head
        self._reused = reused
        self._relocate = relocate
        self._early: list[bytes] | None = []
        """Frames sent before the answer (None once it was OK)."""
        self._early_size = 0
        self._moving = False
        self.bytes_in = 0
        self.bytes_out = 0
        self._in_done = False
        self._out_done = False
        self._done = False
        self._answer = asyncio.ensure_future(self._settle())

    @property
    def finished(self) -> bool:
        """Closed or reset."""
        return self._done

    async def _settle(self) -> None:
        """Read the holder's answer; send the exchange again where the tunnel is now."""
        for _attempt in range(3):
            try:
                async with asyncio.timeout(self._client.timeout_s):
                    answer = await self._reader.readline()
            except (OSError, TimeoutError, ValueError) as exc:
                _LOGGER.warning("relay to %s: no answer: %s", self._address, exc)
                raise RelayDeniedError(Denial.UNREACHABLE) from exc
            if answer == b"OK\n":
                self._early = None
                return
            self._moving = True  # from now on written frames only join the early ones
            self._writer.transport.abort()
            if answer:  # refused: the tunnel is not there (any longer), or cannot be opened
                denial = _ANSWERS.get(answer, Denial.UNREACHABLE)
                address = None
                if denial is Denial.OFFLINE and self._relocate is not None:
                    address = await self._relocate()
                if address is None or address == self._address:
                    raise RelayDeniedError(denial)
                self._address = address
            elif not self._reused:  # a fresh connection closed unanswered
                raise RelayDeniedError(Denial.UNREACHABLE)
            await self._resend()
        raise RelayDeniedError(Denial.UNREACHABLE)

    async def _resend(self) -> None:
        """The head and the early frames again, on a fresh connection to ``_address``."""
        try:
            async with asyncio.timeout(self._client.timeout_s):
                connection = await self._client.connect(self._address)
        except (OSError, TimeoutError) as exc:
            _LOGGER.warning("relay to %s failed: %s", self._address, exc)
            raise RelayDeniedError(Denial.UNREACHABLE) from exc
        self._reader, self._writer = connection
        self._reused = False
        self._writer.write(self._head + b"".join(self._early or ()))
        self._moving = False

    async def _answered(self) -> None:
        if self._early is not None:
            await asyncio.shield(self._answer)

    async def read(self, n: int = -1) -> bytes:
        """The next bytes from the device; b"" once it ended its side."""
        if self._in_done:
            return b""
        await self._answered()
        try:
            data = await _read_frame(self._reader)
        except asyncio.IncompleteReadError as exc:
            raise ConnectionResetError("relay connection closed mid-exchange") from exc
        if not data:
            self._in_done = True
        self.bytes_in += len(data)
        del n  # a frame is at most one chunk of the holder's
        return data

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send bytes to the device; waits while the connection's buffer is full."""
        if data:
            await self._send(_LENGTH.pack(len(data)) + bytes(data))
            self.bytes_out += len(data)

    async def write_eof(self) -> None:
        """End our direction (the device reads EOF)."""
        if not self._out_done:
            self._out_done = True
            await self._send(_END)

    async def _send(self, frame: bytes) -> None:
        if self._early is not None and self._early_size + len(frame) > EARLY_LIMIT:
            await self._answered()  # a long upload: the rest once the holder took it
        if self._early is not None:
            self._early.append(frame)
            self._early_size += len(frame)
            if self._moving:
                return  # sent with the others once the new connection stands
        self._writer.write(frame)
        await self._writer.drain()

    async def close(self, timeout: float = 10.0) -> None:
        """End our direction, read what the device still sends until it ends; then the
        connection serves the next exchange."""
        if self._done:
            return
        try:
            async with asyncio.timeout(timeout):
                await self.write_eof()
                while await self.read():
                    pass
        except (ConnectionError, TimeoutError):
            self.reset("close failed")
            return
        self._done = True
        self._client.give_back(self._address, (self._reader, self._writer))

    def reset(self, reason: str = "") -> None:
        """Drop the connection at once (the holder resets the device's stream)."""
        self._done = True
        _LOGGER.debug("relay reset: %s", reason)
        if not self._answer.done():
            self._answer.cancel()
        elif not self._answer.cancelled():
            self._answer.exception()  # retrieved: a refusal was shown already
        self._writer.transport.abort()


class RelayClient:
    """Forwards exchanges to the nodes holding tunnels; keeps a few idle connections each."""

    def __init__(
        self, tls: FleetTls, node_id: str, *, timeout_s: float = 5.0, keep: int = 8
    ) -> None:
        self._context = tls.client_context()
        self._node_id = node_id
        self.timeout_s = timeout_s
        """Longest wait for a connection or for the holder's answer."""
        self._keep = keep
        self._idle: dict[str, list[_Connection]] = {}
        self.connects = 0
        """TLS connections opened so far (for tests and metrics)."""

    async def open(
        self,
        address: str,
        *,
        device_id: int,
        target: str,
        session_id: int,
        relocate: Relocator | None = None,
    ) -> RelayStream | Denial:
        """A stream to ``target`` on the device through the node at ``address``; the
        request may be written at once (the holder's answer is awaited on the first read).

        ``relocate`` looks the holder up again should it answer that the tunnel moved.
        """
        head = {"device": device_id, "target": target, "session": session_id, "from": self._node_id}
        line = json.dumps(head).encode() + b"\n"
        idle = self._idle.get(address, [])
        while idle:
            reader, writer = idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                writer.write(line)
                return RelayStream(
                    self, address, (reader, writer), line, reused=True, relocate=relocate
                )
            writer.transport.abort()
        try:
            async with asyncio.timeout(self.timeout_s):
                connection = await self.connect(address)
        except (OSError, TimeoutError, ValueError) as exc:
            _LOGGER.warning("relay to %s for device %d failed: %s", address, device_id, exc)
            return Denial.UNREACHABLE
        connection[1].write(line)
        return RelayStream(self, address, connection, line, reused=False, relocate=relocate)

    async def connect(self, address: str) -> _Connection:
        """A new mutual-TLS connection to the node at ``address``."""
        host, _sep, port = address.rpartition(":")
        reader, writer = await asyncio.open_connection(
            host, int(port), ssl=self._context, server_hostname=FLEET_PEER_NAME
        )
        self.connects += 1
        _nodelay(writer)
        return reader, writer

    def give_back(self, address: str, connection: _Connection) -> None:
        """A connection whose exchange ended cleanly: kept for the next one."""
        idle = self._idle.setdefault(address, [])
        if len(idle) < self._keep and not connection[1].is_closing():
            idle.append(connection)
        else:
            connection[1].transport.abort()

    def close(self) -> None:
        """Drop the kept connections (shutdown)."""
        for idle in self._idle.values():
            for _reader, writer in idle:
                writer.transport.abort()
        self._idle.clear()


class RelayServer:
    """The internal listener: forwarded exchanges for tunnels this node holds."""

    def __init__(
        self,
        sock: socket.socket,
        tls: FleetTls,
        *,
        registry: TunnelRegistry,
        store: Store,
        clock: Clock,
        node_id: str,
    ) -> None:
        self._sock = sock
        self._context = tls.server_context()
        self._registry = registry
        self._audit = store.repo(RelayAuditRepository)
        self._clock = clock
        self.node_id = node_id
        self.relayed = 0
        """Forwarded exchanges served (for tests and metrics)."""
        self._connections: set[asyncio.Task[None]] = set()
        self._pending: dict[tuple[int, str], _Traffic] = {}
        """Audit not written yet, by (remote session, entry node)."""
        self._flusher: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        """``host:port`` the listener is bound to."""
        host, port = self._sock.getsockname()[:2]
        return f"{host}:{port}"

    async def serve(self) -> None:
        """Accept connections from the other nodes until cancelled."""
        server = await asyncio.start_server(
            self._connection, sock=self._sock, ssl=self._context, limit=2 * _CHUNK
        )
        _LOGGER.info("relay listening on %s (mutual TLS)", self.address)
        try:
            async with server:
                await server.serve_forever()
        finally:
            for task in self._connections:
                task.cancel()
            if self._flusher is not None:
                self._flusher.cancel()
            with contextlib.suppress(TimeoutError):  # what was relayed last is audited too
                async with asyncio.timeout(5.0):
                    await asyncio.shield(self.flush_audit())

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        _nodelay(writer)
        try:
            while True:
                try:
                    async with asyncio.timeout(_IDLE_S):
                        line = await reader.readline()
                except TimeoutError:
                    return
                if (
                    not line
                    or len(line) > _HEAD_LIMIT
                    or not await self._exchange(reader, writer, line)
                ):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, StreamError):
            return
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.transport.abort()

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes
    ) -> bool:
        """One forwarded exchange; whether the connection may carry another."""
        try:
            head = json.loads(line)
            device_id, target = int(head["device"]), str(head["target"])
            session_id, entry_node = int(head["session"]), str(head["from"])
        except (ValueError, KeyError, TypeError):
            return await _refuse(reader, writer, b"ERR bad-request\n")
        tunnel = self._registry.get(device_id)
        if tunnel is None or not tunnel.session.running:
            return await _refuse(reader, writer, b"ERR offline\n")
        try:
            # Pipelined (ADR 0016), as a local request: the request's frames follow OPEN at
            # once (the entry node sent them without waiting for OK), and OK goes back when
            # the device has taken the stream. Waiting for OPEN_OK before copying cost the
            # forwarded request one more round trip through the tunnel than a local one.
            stream = await tunnel.session.open_stream(target, pipelined=True)
        except (OpenFailedError, TimeoutError):
            return await _refuse(reader, writer, b"ERR unreachable\n")
        except SessionClosedError:
            return await _refuse(reader, writer, b"ERR offline\n")
        up = asyncio.create_task(self._up(reader, stream), name=f"relay up {device_id}")
        try:
            async with asyncio.timeout(_OPEN_TIMEOUT_S):
                await stream.wait_open()
        except (OpenFailedError, TimeoutError, StreamError):
            up.cancel()
            stream.reset("open failed")
            await asyncio.wait([up])
            if not up.cancelled():
                up.exception()  # retrieved: the refusal says what happened
            return await _refuse(reader, writer, b"ERR unreachable\n")
        except BaseException:
            up.cancel()
            raise
        writer.write(b"OK\n")
        clean = False
        try:
            await run_together(
                self._pass(up), self._down(stream, writer), name=f"relay {device_id}"
            )
            clean = True
        except (ConnectionError, asyncio.IncompleteReadError, StreamError) as error:
            _LOGGER.info("relay of device %d ended early: %s", device_id, error)
        finally:
            if not stream.finished:
                stream.reset("relay ended")
            self.relayed += 1
            self._count(session_id, entry_node, stream)
        return clean

    @staticmethod
    async def _pass(task: asyncio.Task[None]) -> None:
        """Await ``task`` in the exchange's group (its errors end the exchange)."""
        try:
            await task
        except asyncio.CancelledError:
            task.cancel()
            raise

    @staticmethod
    async def _up(reader: asyncio.StreamReader, stream: Stream) -> None:
        while data := await _read_frame(reader):
            await stream.write(data)
        await stream.write_eof()

    @staticmethod
    async def _down(stream: Stream, writer: asyncio.StreamWriter) -> None:
        while data := await stream.read(_CHUNK):
            writer.write(_LENGTH.pack(len(data)) + data)
            await writer.drain()
        writer.write(_END)
        await writer.drain()

    def _count(self, session_id: int, entry_node: str, stream: Stream) -> None:
        """Add the exchange to the audit written a moment later (one upsert per session and
        entry node for every request in between, not one per request)."""
        now = self._clock.now()
        key = (session_id, entry_node)
        traffic = self._pending.get(key)
        if traffic is None:
            traffic = self._pending[key] = _Traffic(first_at=now, last_at=now)
        traffic.requests += 1
        traffic.to_device += stream.bytes_out
        traffic.from_device += stream.bytes_in
        traffic.last_at = now
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="relay audit")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(_AUDIT_DELAY_S)
        await self.flush_audit()

    async def flush_audit(self) -> None:
        """Write the gathered audit now."""
        taken, self._pending = self._pending, {}
        for (session_id, entry_node), traffic in taken.items():
            try:
                await self._audit.record(
                    session_id,
                    entry_node=entry_node,
                    tunnel_node=self.node_id,
                    to_device=traffic.to_device,
                    from_device=traffic.from_device,
                    now=traffic.last_at,
                    requests=traffic.requests,
                    first_at=traffic.first_at,
                )
            except GatewayError as exc:
                _LOGGER.warning("relay audit of session %d not written: %s", session_id, exc)
