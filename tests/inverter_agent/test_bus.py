"""The bus and SunSpec discovery against the shared simulated inverters (Modbus TCP and RTU)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from inverter_agent.bus import ModbusBus
from inverter_agent.config import BusConfig
from inverter_agent.errors import BusError, DeviceRejectedError, DeviceTimeoutError, SunSpecError
from inverter_agent.inverter import SunSpecInverter, discover
from inverter_agent.sunspec import OperatingState
from simulator.inverter import InverterModel, TcpInverterServer
from tests.inverter_agent.simulated import inverters, rtu_inverters, tcp_inverters


@pytest.mark.parametrize(
    ("model", "length"), [(InverterModel.INTEGER, 50), (InverterModel.FLOAT, 60)]
)
async def test_discovery_and_poll_over_tcp(model: InverterModel, length: int) -> None:
    sim = inverters(1, model=model)
    async with tcp_inverters(sim) as (_, config), ModbusBus.from_config(config) as bus:
        inverter = SunSpecInverter(bus, 1)
        snapshot = await inverter.poll()
        found = snapshot.discovery
        device = sim[1]
        assert found.layout.model_ids == (1, int(model), 120, 122, 160)
        assert found.common.serial == device.identity.serial
        assert found.common.manufacturer == device.identity.manufacturer
        assert found.nameplate is not None
        assert found.nameplate.w_rtg == device.design.rated_power
        assert found.poll_blocks == (length, 44, 48)
        truth = device.readings()
        assert snapshot.inverter.w == pytest.approx(truth.ac_power, abs=1.0)
        assert snapshot.inverter.state is OperatingState.MPPT
        assert snapshot.status is not None
        assert snapshot.mppt is not None
        assert len(snapshot.mppt.modules) == 2
        again = await inverter.poll()
        assert again.discovery is found  # discovery is read once


async def test_three_inverters_over_rtu_on_a_pty() -> None:
    sim = inverters(3)
    async with rtu_inverters(sim) as (_, config), ModbusBus.from_config(config) as bus:
        for unit in (1, 2, 3):
            snapshot = await SunSpecInverter(bus, unit).poll()
            assert snapshot.discovery.common.serial == sim[unit].identity.serial
            assert snapshot.inverter.w == pytest.approx(sim[unit].readings().ac_power, abs=1.0)


async def test_large_reads_are_split_at_125_registers() -> None:
    async with (
        tcp_inverters(inverters(1)) as (_, config),
        ModbusBus.from_config(config) as bus,
    ):
        whole = await bus.read_holding_registers(1, 40000, 248)
        assert len(whole) == 248
        assert whole[:2] == [0x5375, 0x6E53]
        assert whole[2:4] == [1, 66]
        assert whole[-2:] == [0xFFFF, 0]


async def test_unit_without_sunspec_and_refused_addresses() -> None:
    async with (
        tcp_inverters(inverters(1)) as (_, config),
        ModbusBus.from_config(config) as bus,
    ):
        with pytest.raises(SunSpecError, match="no SunS marker at 40000, 0, 50000"):
            await discover(bus, 9)  # the TCP gateway answers exception 0x0B for unit 9
        with pytest.raises(DeviceRejectedError) as caught:
            await bus.read_holding_registers(1, 2000, 2)
        assert caught.value.exception_code == 2


async def test_silent_device_times_out() -> None:
    sim = inverters(1)
    sim[1].set_offline()
    template = BusConfig(timeout_s=0.05, retries=1)
    async with tcp_inverters(sim, template) as (_, config), ModbusBus.from_config(config) as bus:
        with pytest.raises(DeviceTimeoutError, match="no answer") as caught:
            await bus.read_holding_registers(1, 40000, 2)
        assert isinstance(caught.value, TimeoutError)
        assert caught.value.__cause__ is not None


async def test_reconnects_after_the_server_went_away() -> None:
    sim = inverters(1)
    template = BusConfig(timeout_s=0.3, retries=0)
    async with tcp_inverters(sim, template) as (server, config):
        port = server.port
        bus = ModbusBus.from_config(config)
        try:
            assert await bus.read_holding_registers(1, 40000, 2) == [0x5375, 0x6E53]
        except BaseException:
            await bus.close()
            raise
    async with bus:
        with pytest.raises(BusError):
            await bus.read_holding_registers(1, 40000, 2)  # nobody listens now
        async with TcpInverterServer(sim, "127.0.0.1", port):
            assert await bus.read_holding_registers(1, 40000, 2) == [0x5375, 0x6E53]


class _Answer:
    def __init__(self, count: int) -> None:
        self.registers = [0] * count

    def isError(self) -> bool:  # noqa: N802 - pymodbus's name
        return False


class _AnswerThroughCancel:
    """A client that answers although its caller was cancelled, as pymodbus's
    ``asyncio.wait_for`` does on Python 3.11 when the answer and the cancellation coincide."""

    connected = True

    def __init__(self) -> None:
        self.reads = 0
        self.waiting = asyncio.Event()

    async def read_holding_registers(self, address: int, *, count: int, device_id: int) -> _Answer:
        self.reads += 1
        self.waiting.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.get_running_loop().create_future()
        return _Answer(count)

    def close(self) -> None:
        pass


async def test_a_cancellation_the_client_answered_through_still_stops_the_bus() -> None:
    client = _AnswerThroughCancel()
    bus = ModbusBus(client, name="stub", timeout_s=1.0, retries=0)  # type: ignore[arg-type]
    reading = asyncio.create_task(bus.read_holding_registers(1, 40000, 300))  # three requests
    await client.waiting.wait()
    reading.cancel()
    async with asyncio.timeout(5):  # without the check: the next request waits forever
        with pytest.raises(asyncio.CancelledError):
            await reading
    assert client.reads == 1
