"""Remote access across nodes: a browser's request for a device whose tunnel another node holds.

The node that took the browser's request (the *entry* node) checks it as always (session,
account, entitlement), finds the holder in the tunnel directory and sends the request over a
connection to the holder's internal listener, authenticated both ways with fleet certificates
(:mod:`cloud_gateway.fleet.tls`). One exchange on a connection:

    entry → holder   {"device": 7, "target": "webui", "session": 12, "from": "gw1"}\\n
    holder → entry   OK\\n                 (the holder opened a stream in the device's tunnel)
                     or ERR offline|unreachable|bad-request\\n
    both ways        frames: 4-byte length, bytes; length 0 ends that direction

The holder copies frames into the tunnel stream and the stream into frames as they come
(flow control: the tunnel's credit on one side, TCP on the other; no body is held whole). When
both directions have ended cleanly the connection carries the next exchange: the entry node
keeps it for its next request to that holder, so the TLS handshake is paid once per pair of
nodes, not per request. A reset (either side) drops the connection. The entry node runs its
usual HTTP or upgrade proxy over :class:`RelayStream` (it reads and writes like a tunnel
stream), so pages, downloads and WebSockets pass unchanged.

The audit is kept on both nodes: the entry node counts the request into the browser's remote
session (as for a local tunnel); the holder adds it to ``remote_relays`` (session, entry node,
tunnel node, bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
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

__all__ = ["RelayClient", "RelayServer", "RelayStream"]

_LOGGER = logging.getLogger(__name__)
_HEAD_LIMIT: Final = 4096
_CHUNK: Final = 64 * 1024
_LENGTH = struct.Struct("!I")
_END: Final = _LENGTH.pack(0)
_IDLE_S: Final = 300.0
"""A kept connection unused this long is closed by the holder."""

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    """The next frame's bytes (b"" for the end frame); IncompleteReadError at EOF."""
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return await reader.readexactly(length) if length else b""


class RelayStream:
    """The entry node's end of one forwarded exchange; reads and writes like a tunnel stream."""

    def __init__(self, client: RelayClient, address: str, connection: _Connection) -> None:
        self._client = client
        self._address = address
        self._reader, self._writer = connection
        self.bytes_in = 0
        self.bytes_out = 0
        self._in_done = False
        self._out_done = False
        self._done = False

    @property
    def finished(self) -> bool:
        """Closed or reset."""
        return self._done

    async def read(self, n: int = -1) -> bytes:
        """The next bytes from the device; b"" once it ended its side."""
        if self._in_done:
            return b""
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
            self._writer.write(_LENGTH.pack(len(data)) + bytes(data))
            self.bytes_out += len(data)
            await self._writer.drain()

    async def write_eof(self) -> None:
        """End our direction (the device reads EOF)."""
        if not self._out_done:
            self._out_done = True
            self._writer.write(_END)
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
        self._writer.transport.abort()


class RelayClient:
    """Forwards exchanges to the nodes holding tunnels; keeps a few idle connections each."""

    def __init__(
        self, tls: FleetTls, node_id: str, *, timeout_s: float = 5.0, keep: int = 8
    ) -> None:
        self._context = tls.client_context()
        self._node_id = node_id
        self._timeout_s = timeout_s
        self._keep = keep
        self._idle: dict[str, list[_Connection]] = {}
        self.connects = 0
        """TLS connections opened so far (for tests and metrics)."""

    async def open(
        self, address: str, *, device_id: int, target: str, session_id: int
    ) -> RelayStream | Denial:
        """A stream to ``target`` on the device through the node at ``address``."""
        head = {"device": device_id, "target": target, "session": session_id, "from": self._node_id}
        line = json.dumps(head).encode() + b"\n"
        for attempt in range(2):  # a kept connection may have been closed by its node meanwhile
            try:
                async with asyncio.timeout(self._timeout_s):
                    reader, writer = await self._connection(address, fresh=attempt == 1)
                    writer.write(line)
                    answer = await reader.readline()
            except (OSError, TimeoutError, ValueError) as exc:
                _LOGGER.warning("relay to %s for device %d failed: %s", address, device_id, exc)
                return Denial.UNREACHABLE
            if answer == b"OK\n":
                return RelayStream(self, address, (reader, writer))
            if answer:
                self.give_back(address, (reader, writer))  # an answered refusal: still good
                return Denial.OFFLINE if answer == b"ERR offline\n" else Denial.UNREACHABLE
            writer.transport.abort()
        return Denial.UNREACHABLE

    async def _connection(self, address: str, *, fresh: bool) -> _Connection:
        idle = self._idle.get(address, [])
        while idle and not fresh:
            reader, writer = idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                return reader, writer
            writer.transport.abort()
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
        self._audits: set[asyncio.Task[None]] = set()

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
            writer.write(b"ERR bad-request\n")
            return False
        tunnel = self._registry.get(device_id)
        if tunnel is None or not tunnel.session.running:
            writer.write(b"ERR offline\n")
            return True
        try:
            stream = await tunnel.session.open_stream(target)
        except (OpenFailedError, TimeoutError):
            writer.write(b"ERR unreachable\n")
            return True
        except SessionClosedError:
            writer.write(b"ERR offline\n")
            return True
        writer.write(b"OK\n")
        clean = False
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._up(reader, stream))
                group.create_task(self._down(stream, writer))
            clean = True
        except* (ConnectionError, asyncio.IncompleteReadError, StreamError) as errors:
            _LOGGER.info("relay of device %d ended early: %s", device_id, errors.exceptions[0])
        finally:
            if not stream.finished:
                stream.reset("relay ended")
            self.relayed += 1
            # written beside the next exchange, not before it
            audit = asyncio.create_task(self._record(session_id, entry_node, stream))
            self._audits.add(audit)
            audit.add_done_callback(self._audits.discard)
        return clean

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

    async def _record(self, session_id: int, entry_node: str, stream: Stream) -> None:
        try:
            await self._audit.record(
                session_id,
                entry_node=entry_node,
                tunnel_node=self.node_id,
                to_device=stream.bytes_out,
                from_device=stream.bytes_in,
                now=self._clock.now(),
            )
        except GatewayError as exc:
            _LOGGER.warning("relay audit of session %d not written: %s", session_id, exc)
