"""Modbus RTU: literal frames, and inverters on a pty pair with the wire's timing.

Clients open the pty with parity N: a pty carries bytes, not bits, so its parity setting
means nothing, and some kernels refuse PARENB on a pty outright (EINVAL). The server
still times the line as configured (8E1 here).
"""

from __future__ import annotations

import asyncio
import os
import termios
import tty
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from pymodbus.client import AsyncModbusSerialClient

from simulator.inverter.bus import InverterBus
from simulator.inverter.clock import ManualClock
from simulator.inverter.image import InverterModel, walk_models
from simulator.inverter.rtu import (
    UNKNOWN_LENGTH,
    CrcError,
    SerialLine,
    crc16,
    decode_frame,
    encode_frame,
    request_frame_length,
)
from simulator.inverter.rtu_server import RtuInverterServer, UsbBurst

NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
LINE = SerialLine(baud=9600, parity="E", stopbits=1)
READ_MARKER = encode_frame(1, bytes([3, 0x9C, 0x40, 0, 2]))


def test_crc_and_frames_literal() -> None:
    assert crc16(bytes.fromhex("01030000000a")) == 0xCDC5
    assert encode_frame(1, bytes.fromhex("030000000a")) == bytes.fromhex("01030000000ac5cd")
    assert decode_frame(bytes.fromhex("01030000000ac5cd")) == (1, bytes.fromhex("030000000a"))
    with pytest.raises(CrcError):
        decode_frame(bytes.fromhex("01030000000ac5ce"))
    with pytest.raises(CrcError):
        decode_frame(b"\x01\x03")


def test_request_lengths() -> None:
    assert request_frame_length(b"\x01") is None
    assert request_frame_length(b"\x01\x03") == 8
    assert request_frame_length(b"\x01\x06") == 8
    assert request_frame_length(b"\x01\x10\x00\x00\x00") is None
    assert request_frame_length(b"\x01\x10\x00\x00\x00\x02\x04") == 13
    assert request_frame_length(b"\x01\x2b") == UNKNOWN_LENGTH


def test_line_timing() -> None:
    assert SerialLine(baud=9600, parity="E").bits_per_char == 11
    assert SerialLine(baud=9600, parity="N").bits_per_char == 10
    assert SerialLine(baud=9600, parity="N", stopbits=2).bits_per_char == 11
    assert SerialLine(baud=9600, parity="E").char_time == pytest.approx(11 / 9600)
    assert SerialLine(baud=9600, parity="E").frame_gap == pytest.approx(3.5 * 11 / 9600)
    assert SerialLine(baud=115200, parity="E").frame_gap == 0.00175
    with pytest.raises(ValueError, match="parity"):
        SerialLine(parity="X")  # type: ignore[arg-type]


@pytest.fixture
def bus() -> InverterBus:
    return InverterBus.generate(3, seed=21, clock=ManualClock(NOON), model=InverterModel.FLOAT)


@pytest.fixture
async def server(bus: InverterBus) -> AsyncIterator[RtuInverterServer]:
    async with RtuInverterServer(bus, "pty", LINE) as running:
        yield running


class RawPort:
    """The client end of the pty, raw, with arrival times of what it reads."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd, termios.TCSANOW)
        self.received = bytearray()
        self.chunks: list[tuple[float, int]] = []
        self._more = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._on_readable)

    def _on_readable(self) -> None:
        data = os.read(self.fd, 4096)
        self.received += data
        self.chunks.append((self._loop.time(), len(data)))
        self._more.set()

    def send(self, data: bytes) -> float:
        sent_at = self._loop.time()
        os.write(self.fd, data)
        return sent_at

    async def read(self, count: int) -> bytes:
        async with asyncio.timeout(5):
            while len(self.received) < count:
                self._more.clear()
                await self._more.wait()
        data = bytes(self.received[:count])
        del self.received[:count]
        return data

    def close(self) -> None:
        self._loop.remove_reader(self.fd)
        os.close(self.fd)


@contextmanager
def raw_port(path: str) -> Iterator[RawPort]:
    port = RawPort(path)
    try:
        yield port
    finally:
        port.close()


async def test_pymodbus_serial_client_reads_every_unit(bus: InverterBus) -> None:
    fast = SerialLine(baud=115200, parity="E")
    async with RtuInverterServer(bus, "pty", fast) as server:
        client = AsyncModbusSerialClient(server.path, baudrate=115200, timeout=3, retries=0)
        assert await client.connect()
        try:
            await read_every_unit(bus, client)
        finally:
            client.close()


async def read_every_unit(bus: InverterBus, client: AsyncModbusSerialClient) -> None:
    for inverter in bus:
        unit = inverter.unit_id
        first = await client.read_holding_registers(40000, count=125, device_id=unit)
        rest = await client.read_holding_registers(40125, count=125, device_id=unit)
        tail = await client.read_holding_registers(40250, count=8, device_id=unit)
        image = [*first.registers, *rest.registers, *tail.registers]
        assert [h.model_id for h in walk_models(image)] == [1, 113, 120, 122, 160, 0xFFFF]
        assert image == inverter.image()
    refused = await client.write_register(40000, 1, device_id=2)
    assert refused.exception_code == 2


async def test_two_full_reads_take_the_wire_time_at_9600_8e1(server: RtuInverterServer) -> None:
    client = AsyncModbusSerialClient(server.path, baudrate=9600, parity="N", timeout=3, retries=0)
    assert await client.connect()
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        for address in (40000, 40125):
            reply = await client.read_holding_registers(address, count=125, device_id=1)
            assert len(reply.registers) == 125
        elapsed = loop.time() - started
    finally:
        client.close()
    char = 11 / 9600
    request, response = 8, 3 + 2 * 125 + 2
    # two transactions; the 3.5-character silence before each response and between them
    wire = 2 * (request + response) * char + 3 * 3.5 * char
    assert wire <= elapsed <= 1.2 * wire


async def test_response_never_outruns_the_wire(server: RtuInverterServer) -> None:
    with raw_port(server.path) as port:
        request = encode_frame(1, bytes([3, 0x9C, 0x40, 0, 125]))
        sent_at = port.send(request)
        answer = await port.read(255)
    assert decode_frame(answer)[1][:2] == bytes([3, 250])
    char = LINE.char_time
    delivered = 0
    for arrived, size in port.chunks:
        delivered += size
        earliest = sent_at + (len(request) + 3.5 + delivered) * char
        assert arrived >= earliest


async def test_usb_burst_delivers_chunks(bus: InverterBus) -> None:
    async with RtuInverterServer(bus, "pty", LINE, burst=UsbBurst(chunk=64, latency=0.004)) as srv:
        with raw_port(srv.path) as port:
            sent_at = port.send(encode_frame(1, bytes([3, 0x9C, 0x40, 0, 125])))
            await port.read(255)
    delivered = 0
    for arrived, size in port.chunks:
        assert size <= 64
        delivered += size
        assert arrived >= sent_at + (8 + 3.5 + delivered) * LINE.char_time + 0.004


async def test_unknown_units_offline_units_and_damaged_frames_stay_silent(
    bus: InverterBus, server: RtuInverterServer
) -> None:
    bus[2].set_offline()
    with raw_port(server.path) as port:
        port.send(encode_frame(9, bytes([3, 0x9C, 0x40, 0, 2])))  # nobody there
        port.send(encode_frame(2, bytes([3, 0x9C, 0x40, 0, 2])))  # offline
        port.send(READ_MARKER[:-1] + bytes([READ_MARKER[-1] ^ 0xFF]))  # bad CRC
        port.send(READ_MARKER)
        answer = await port.read(9)
        assert answer == encode_frame(1, bytes([3, 4, 0x53, 0x75, 0x6E, 0x53]))
        port.send(encode_frame(1, bytes([0x2B, 0x0E, 0x01, 0x00])))  # unsupported function
        assert await port.read(5) == encode_frame(1, bytes([0xAB, 0x01]))
        assert port.received == b""
