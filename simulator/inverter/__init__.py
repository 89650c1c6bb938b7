"""Simulated SunSpec PV inverters: register images, Modbus TCP and RTU, sun, faults.

A separate device: nothing here imports product code. Start a bus of inverters in a test::

    clock = ManualClock(datetime(2026, 6, 21, 11, 0, tzinfo=UTC))
    bus = InverterBus.generate(3, seed=1, clock=clock, model=InverterModel.INTEGER)
    async with TcpInverterServer(bus, "127.0.0.1", 0) as server:
        ...  # server.port
    async with RtuInverterServer(bus, PTY, SerialLine(baud=9600, parity="E")) as server:
        ...  # server.path
"""

from __future__ import annotations

from simulator.inverter.activation import (
    DEMO_MANUFACTURER_KEY,
    activation_code,
    verify_activation_code,
)
from simulator.inverter.bus import InverterBus
from simulator.inverter.clock import Clock, ManualClock, ShiftedClock, SystemClock
from simulator.inverter.device import PendingConfiguration, SimulatedInverter
from simulator.inverter.image import CONFIG_RELOAD_ADDRESS, SUNSPEC_BASE, InverterModel
from simulator.inverter.rtu import SerialLine
from simulator.inverter.rtu_server import PTY, RtuInverterServer, UsbBurst
from simulator.inverter.sun import Site
from simulator.inverter.tcp_server import TcpInverterServer

__all__ = [
    "CONFIG_RELOAD_ADDRESS",
    "DEMO_MANUFACTURER_KEY",
    "PTY",
    "SUNSPEC_BASE",
    "Clock",
    "InverterBus",
    "InverterModel",
    "ManualClock",
    "PendingConfiguration",
    "RtuInverterServer",
    "SerialLine",
    "ShiftedClock",
    "SimulatedInverter",
    "Site",
    "SystemClock",
    "TcpInverterServer",
    "UsbBurst",
    "activation_code",
    "verify_activation_code",
]
