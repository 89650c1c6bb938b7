"""Modbus TCP inverters through real sockets on loopback, read with pymodbus's client."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulator.inverter.bus import InverterBus
from simulator.inverter.clock import ManualClock
from simulator.inverter.device import PendingConfiguration
from simulator.inverter.image import InverterModel, walk_models
from simulator.inverter.tcp_server import TcpInverterServer

NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)


@pytest.fixture
def bus() -> InverterBus:
    return InverterBus.generate(3, seed=11, clock=ManualClock(NOON), model=InverterModel.INTEGER)


@pytest.fixture
async def server(bus: InverterBus) -> AsyncIterator[TcpInverterServer]:
    async with TcpInverterServer(bus, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
async def client(server: TcpInverterServer) -> AsyncIterator[AsyncModbusTcpClient]:
    modbus = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=2, retries=0)
    assert await modbus.connect()
    try:
        yield modbus
    finally:
        modbus.close()


async def read_image(client: AsyncModbusTcpClient, unit: int, length: int) -> list[int]:
    registers: list[int] = []
    for start in range(0, length, 125):
        count = min(125, length - start)
        reply = await client.read_holding_registers(40000 + start, count=count, device_id=unit)
        assert not reply.isError()
        registers += reply.registers
    return registers


async def test_every_unit_shows_its_sunspec_image(
    bus: InverterBus, client: AsyncModbusTcpClient
) -> None:
    for inverter in bus:
        image = await read_image(client, inverter.unit_id, 248)
        assert image[:2] == [0x5375, 0x6E53]
        assert [h.model_id for h in walk_models(image)] == [1, 103, 120, 122, 160, 0xFFFF]
        assert image == inverter.image()
        serial = bytes(b for r in image[52:68] for b in r.to_bytes(2, "big")).rstrip(b"\0")
        assert serial.decode() == inverter.identity.serial


async def test_input_registers_mirror_holding_registers(client: AsyncModbusTcpClient) -> None:
    holding = await client.read_holding_registers(40000, count=10, device_id=2)
    inputs = await client.read_input_registers(40000, count=10, device_id=2)
    assert inputs.registers == holding.registers


async def test_exceptions_for_bad_address_value_and_function(
    client: AsyncModbusTcpClient,
) -> None:
    outside = await client.read_holding_registers(40240, count=10, device_id=1)
    assert outside.isError()
    assert outside.exception_code == 2
    read_only = await client.write_register(40070, 1, device_id=1)
    assert read_only.exception_code == 2
    bad_value = await client.write_register(41000, 7, device_id=1)
    assert bad_value.exception_code == 3
    coils = await client.read_coils(0, count=1, device_id=1)
    assert coils.exception_code == 1


async def test_unknown_unit_gets_gateway_exception(client: AsyncModbusTcpClient) -> None:
    reply = await client.read_holding_registers(40000, count=2, device_id=9)
    assert reply.exception_code == 0x0B


async def test_config_reload_register_publishes_the_nameplate(
    bus: InverterBus, client: AsyncModbusTcpClient
) -> None:
    bus[1].pending_configuration = PendingConfiguration.ABSENT
    before = walk_models(await read_image(client, 1, 220))
    assert 120 not in [h.model_id for h in before]
    assert (await client.read_holding_registers(41000, count=1, device_id=1)).registers == [0]
    assert not (await client.write_register(41000, 1, device_id=1)).isError()
    after = walk_models(await read_image(client, 1, 248))
    assert [h.model_id for h in after] == [1, 103, 120, 122, 160, 0xFFFF]
    assert bus[1].reload_count == 1


async def test_offline_inverter_stays_silent(bus: InverterBus, server: TcpInverterServer) -> None:
    bus[2].set_offline()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        pdu = struct.pack(">BHH", 3, 40000, 2)
        writer.write(struct.pack(">HHHB", 1, 0, len(pdu) + 1, 2) + pdu)  # offline unit 2
        writer.write(struct.pack(">HHHB", 2, 0, len(pdu) + 1, 1) + pdu)  # unit 1
        await writer.drain()
        answer = await reader.readexactly(7 + 6)
        tid, _, _, unit = struct.unpack(">HHHB", answer[:7])
        assert (tid, unit) == (2, 1)
        assert answer[7:] == bytes([3, 4, 0x53, 0x75, 0x6E, 0x53])
    finally:
        writer.close()
        await writer.wait_closed()


async def test_float_model_113_over_tcp() -> None:
    bus = InverterBus.generate(1, seed=3, clock=ManualClock(NOON), model=InverterModel.FLOAT)
    async with TcpInverterServer(bus) as server:
        modbus = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=2, retries=0)
        assert await modbus.connect()
        try:
            image = await read_image(modbus, 1, 258)
        finally:
            modbus.close()
    assert [h.model_id for h in walk_models(image)] == [1, 113, 120, 122, 160, 0xFFFF]
    watts = struct.unpack(">f", struct.pack(">HH", *image[92:94]))[0]
    assert watts == pytest.approx(bus[1].readings().ac_power, rel=1e-6)
