"""A temporary Modbus stand-in: pymodbus' own server serving literal SunSpec images on loopback.

To be replaced by the shared simulator (simulator/inverter/) once it lands.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from pymodbus import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def device(unit_id: int, base: int, image: Sequence[int]) -> SimDevice:
    return SimDevice(
        id=unit_id,
        simdata=[SimData(address=base, values=list(image), datatype=DataType.REGISTERS)],
    )


@asynccontextmanager
async def modbus_server(
    devices: list[SimDevice], *, framer: FramerType = FramerType.SOCKET, port: int = 0
) -> AsyncIterator[int]:
    """Serve ``devices`` on 127.0.0.1; yields the port."""
    server = ModbusTcpServer(devices, address=("127.0.0.1", port), framer=framer)
    await server.listen()
    try:
        assert isinstance(server.transport, asyncio.Server)
        yield int(server.transport.sockets[0].getsockname()[1])
    finally:
        await server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus leaves it untyped


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never answers; yields the port."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
