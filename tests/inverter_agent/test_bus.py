"""The bus against pymodbus' own server on loopback (stand-in until the shared simulator lands)."""

from __future__ import annotations

import pytest
from pymodbus import FramerType

from inverter_agent.bus import ModbusBus
from inverter_agent.config import BusConfig, BusKind
from inverter_agent.errors import BusError, DeviceRejectedError, DeviceTimeoutError, SunSpecError
from inverter_agent.inverter import SunSpecInverter, discover
from inverter_agent.sunspec import OperatingState
from tests.inverter_agent.modbus_stand_in import device, modbus_server, silent_server
from tests.inverter_agent.sunspec import images


def tcp(port: int, **kwargs: float) -> ModbusBus:
    return ModbusBus.from_config(BusConfig(kind=BusKind.TCP, port=port, **kwargs))  # type: ignore[arg-type]


async def test_discovery_and_poll_over_tcp() -> None:
    async with (
        modbus_server([device(1, images.BASE, images.IMAGE)]) as port,
        tcp(port, timeout_s=2.0) as bus,
    ):
        inverter = SunSpecInverter(bus, 1)
        snapshot = await inverter.poll()
        found = snapshot.discovery
        assert found.layout.model_ids == (1, 103, 120, 126, 122, 160)
        assert found.common.serial == "SN-0042"
        assert found.nameplate is not None
        assert found.nameplate.w_rtg == 6000.0
        assert found.poll_blocks == (50, 44, 48)
        assert snapshot.inverter.w == 5000.0
        assert snapshot.inverter.state is OperatingState.MPPT
        assert snapshot.status is not None
        assert snapshot.status.act_wh == 123456
        assert snapshot.mppt is not None
        assert len(snapshot.mppt.modules) == 2
        again = await inverter.poll()
        assert again.discovery is found  # discovery is read once


async def test_marker_at_base_zero_after_refused_40000_over_rtu_framing() -> None:
    image = [0x5375, 0x6E53, *images.COMMON, *images.INVERTER_113, *images.END]
    async with (
        modbus_server([device(7, 0, image)], framer=FramerType.RTU) as port,
        ModbusBus.from_config(
            BusConfig(kind=BusKind.RTU, serial_port=f"socket://127.0.0.1:{port}", timeout_s=2.0)
        ) as bus,
    ):
        found = await discover(bus, 7)
        assert found.layout.base == 0
        assert found.inverter.model_id == 113
        assert found.nameplate is None
        assert found.status is None


async def test_large_reads_are_split_at_125_registers() -> None:
    image = list(range(300))
    async with modbus_server([device(1, 0, image)]) as port, tcp(port, timeout_s=2.0) as bus:
        assert await bus.read_holding_registers(1, 10, 260) == image[10:270]


async def test_device_without_sunspec() -> None:
    async with (
        modbus_server([device(1, 40000, [1, 2, 3, 4])]) as port,
        tcp(port, timeout_s=2.0) as bus,
    ):
        with pytest.raises(SunSpecError, match="no SunS marker at 40000, 0, 50000"):
            await discover(bus, 1)
        with pytest.raises(DeviceRejectedError) as caught:
            await bus.read_holding_registers(1, 2000, 2)
        assert caught.value.exception_code == 2


async def test_silent_device_times_out() -> None:
    async with silent_server() as port, tcp(port, timeout_s=0.05, retries=1) as bus:
        with pytest.raises(DeviceTimeoutError, match="no answer") as caught:
            await bus.read_holding_registers(1, 40000, 2)
        assert isinstance(caught.value, TimeoutError)
        assert caught.value.__cause__ is not None


async def test_reconnects_after_the_server_went_away() -> None:
    devices = [device(1, 0, [11, 22])]
    async with modbus_server(devices) as port:
        bus = tcp(port, timeout_s=0.3, retries=0)
        try:
            assert await bus.read_holding_registers(1, 0, 2) == [11, 22]
        except BaseException:
            await bus.close()
            raise
    async with bus:
        with pytest.raises(BusError):
            await bus.read_holding_registers(1, 0, 2)  # nobody listens now
        async with modbus_server(devices, port=port):
            assert await bus.read_holding_registers(1, 0, 2) == [11, 22]
