"""Modbus TCP server for an :class:`~simulator.inverter.bus.InverterBus`.

Each request is an MBAP header plus PDU::

    0      2      4        6     7
    +------+------+--------+-----+-----------------+
    | tid  | pid  | length | uid | PDU (length - 1) |
    +------+------+--------+-----+-----------------+

The answer repeats ``tid``, ``pid`` and ``uid``. Requests without an answer (offline
inverter) are dropped silently; the connection stays open, as with a real gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from types import TracebackType

from simulator.inverter.bus import InverterBus

__all__ = ["TcpInverterServer"]

_LOGGER = logging.getLogger(__name__)
_MBAP = struct.Struct(">HHHB")
_MAX_PDU = 253


class TcpInverterServer:
    """Serves the bus on ``host:port`` (port 0: any free port, see :attr:`port`)."""

    def __init__(self, bus: InverterBus, host: str = "127.0.0.1", port: int = 0) -> None:
        self._bus = bus
        self._host = host
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port actually listened on."""
        if self._server is None:
            raise RuntimeError("server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def host(self) -> str:
        """The address listened on."""
        return self._host

    async def start(self) -> None:
        """Start listening."""
        self._server = await asyncio.start_server(
            self._on_connection, self._host, self._requested_port
        )
        _LOGGER.info("Modbus TCP inverters on %s:%d", self._host, self.port)

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> TcpInverterServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            _LOGGER.debug("Modbus TCP client went away")
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            header = await reader.readexactly(_MBAP.size)
            tid, pid, length, unit = _MBAP.unpack(header)
            if not 2 <= length <= _MAX_PDU + 1:
                _LOGGER.warning("bad MBAP length %d, closing the connection", length)
                return
            pdu = await reader.readexactly(length - 1)
            if pid != 0:
                continue
            response = self._bus.handle(unit, pdu, "tcp")
            if response is None:
                continue
            writer.write(_MBAP.pack(tid, pid, len(response) + 1, unit) + response)
            await writer.drain()
