"""Remote access across nodes: a browser's request for a device whose tunnel another node holds.

The node that took the browser's request (the *entry* node) checks it as always (session,
account, entitlement), finds the holder in the tunnel directory and opens a connection to the
holder's internal listener, authenticated both ways with fleet certificates
(:mod:`cloud_gateway.fleet.tls`). One JSON line names the device, the target and the remote
session; the holder opens a stream in the device's tunnel, answers ``OK`` and from then on the
connection and the stream are spliced byte for byte (:class:`~tunnel.tcp_splice.TcpSplice`,
flow-controlled both ways, nothing buffered whole). The entry node runs its usual HTTP or
upgrade proxy over that connection (:class:`RelayStream` reads and writes like a tunnel
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
from typing import Final

from cloud_gateway.errors import GatewayError
from cloud_gateway.fleet.tls import FLEET_PEER_NAME, FleetTls
from cloud_gateway.remote.gate import Denial
from cloud_gateway.remote.repository_relays import RelayAuditRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tunnel.clock import Clock
from tunnel.errors import OpenFailedError, SessionClosedError
from tunnel.streams import Stream
from tunnel.tcp_splice import TcpSplice

__all__ = ["RelayClient", "RelayServer", "RelayStream"]

_LOGGER = logging.getLogger(__name__)
_HEAD_LIMIT: Final = 4096
_CHUNK: Final = 64 * 1024


class RelayStream:
    """The entry node's end of a forwarded request; reads and writes like a tunnel stream."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.bytes_in = 0
        self.bytes_out = 0
        self._done = False

    @property
    def finished(self) -> bool:
        """Closed or reset."""
        return self._done

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes; b"" once the holder closed."""
        data = await self._reader.read(n if n > 0 else _CHUNK)
        self.bytes_in += len(data)
        return data

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send and wait while the connection's buffer is full."""
        self._writer.write(data)
        self.bytes_out += len(data)
        await self._writer.drain()

    async def write_eof(self) -> None:
        """TLS has no half-close here: the holder ends the exchange."""

    async def close(self, timeout: float = 10.0) -> None:
        """Close the connection (the holder finishes its stream)."""
        self._done = True
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError, ConnectionError):
            async with asyncio.timeout(timeout):
                await self._writer.wait_closed()

    def reset(self, reason: str = "") -> None:
        """Drop the connection at once."""
        self._done = True
        _LOGGER.debug("relay reset: %s", reason)
        self._writer.transport.abort()


class RelayClient:
    """Opens forwarded requests to the node holding a device's tunnel."""

    def __init__(self, tls: FleetTls, node_id: str, *, timeout_s: float = 5.0) -> None:
        self._context = tls.client_context()
        self._node_id = node_id
        self._timeout_s = timeout_s

    async def open(
        self, address: str, *, device_id: int, target: str, session_id: int
    ) -> RelayStream | Denial:
        """A stream to ``target`` on the device through the node at ``address``."""
        host, _sep, port = address.rpartition(":")
        head = {"device": device_id, "target": target, "session": session_id, "from": self._node_id}
        try:
            async with asyncio.timeout(self._timeout_s):
                reader, writer = await asyncio.open_connection(
                    host, int(port), ssl=self._context, server_hostname=FLEET_PEER_NAME
                )
                writer.write(json.dumps(head).encode() + b"\n")
                answer = await reader.readline()
        except (OSError, TimeoutError, ValueError) as exc:
            _LOGGER.warning("relay to %s for device %d failed: %s", address, device_id, exc)
            return Denial.UNREACHABLE
        if answer == b"OK\n":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return RelayStream(reader, writer)
        writer.transport.abort()
        return Denial.OFFLINE if answer == b"ERR offline\n" else Denial.UNREACHABLE


class _Relayed(TcpSplice):
    """The holder's end: one JSON line first, then the splice with the device's stream."""

    def __init__(self, server: RelayServer) -> None:
        super().__init__()
        self._server = server
        self._head = b""
        self._early: list[bytes] = []
        self._headed = False
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if isinstance(transport, asyncio.Transport):
            transport.resume_reading()  # for the head line

    def data_received(self, data: bytes) -> None:
        if self.stream is not None:
            super().data_received(data)
            return
        if self._headed:
            self._early.append(data)
            return
        self._head += data
        line, newline, rest = self._head.partition(b"\n")
        if not newline:
            if len(self._head) > _HEAD_LIMIT and self.transport is not None:
                self.transport.abort()
            return
        self._headed = True
        if rest:
            self._early.append(rest)
        if self.transport is not None:
            self.transport.pause_reading()
        self._task = asyncio.create_task(self._server.relay(self, line), name="relay")

    def start(self, stream: Stream) -> None:
        """Answer OK and splice; what came with the head goes first."""
        transport = self.transport
        if transport is not None:
            transport.write(b"OK\n")
        self.attach(stream)
        early, self._early = self._early, []
        for chunk in early:
            super().data_received(chunk)

    def refuse(self, why: str) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(f"ERR {why}\n".encode())
            transport.close()


class RelayServer:
    """The internal listener: forwarded requests for tunnels this node holds."""

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
        """Forwarded requests served (for tests and metrics)."""

    @property
    def address(self) -> str:
        """``host:port`` the listener is bound to."""
        host, port = self._sock.getsockname()[:2]
        return f"{host}:{port}"

    async def serve(self) -> None:
        """Accept forwarded requests until cancelled."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Relayed(self), sock=self._sock, ssl=self._context
        )
        _LOGGER.info("relay listening on %s (mutual TLS)", self.address)
        async with server:
            await server.serve_forever()

    async def relay(self, protocol: _Relayed, line: bytes) -> None:
        """Open the device's stream for one forwarded request and splice it."""
        try:
            head = json.loads(line)
            device_id, target = int(head["device"]), str(head["target"])
            session_id, entry_node = int(head["session"]), str(head["from"])
        except (ValueError, KeyError, TypeError):
            protocol.refuse("bad-request")
            return
        tunnel = self._registry.get(device_id)
        if tunnel is None or not tunnel.session.running:
            protocol.refuse("offline")
            return
        try:
            stream = await tunnel.session.open_stream(target)
        except (OpenFailedError, TimeoutError):
            protocol.refuse("unreachable")
            return
        except SessionClosedError:
            protocol.refuse("offline")
            return
        protocol.start(stream)
        try:
            await protocol.wait_closed()
        finally:
            self.relayed += 1
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
