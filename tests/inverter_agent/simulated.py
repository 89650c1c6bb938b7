"""The shared simulated inverters (``simulator/inverter/``) as the agent's tests use them.

The simulator is a separate device: tests reach it only through Modbus TCP on a loopback port
(port 0) or Modbus RTU on a pty. On this kernel a pty refuses even parity in ``tcsetattr``, so
the client opens the pty with parity ``N`` while the simulator times the line as 8E1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

from inverter_agent.config import BusConfig, BusKind, Parity
from simulator.inverter import (
    PTY,
    InverterBus,
    InverterModel,
    ManualClock,
    RtuInverterServer,
    SerialLine,
    TcpInverterServer,
)

__all__ = ["NOON", "inverters", "rtu_inverters", "tcp_inverters"]

NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
"""Midsummer noon: every simulated inverter produces."""


def inverters(
    count: int, *, model: InverterModel = InverterModel.INTEGER, seed: int = 1
) -> InverterBus:
    """``count`` simulated inverters (units 1..count) on a clock that stands at noon."""
    return InverterBus.generate(count, seed=seed, clock=ManualClock(NOON), model=model)


@asynccontextmanager
async def tcp_inverters(
    bus: InverterBus, template: BusConfig | None = None
) -> AsyncIterator[tuple[TcpInverterServer, BusConfig]]:
    """Serve ``bus`` over Modbus TCP on a free loopback port; the agent's bus configuration."""
    base = template or BusConfig(timeout_s=2.0, retries=0)
    async with TcpInverterServer(bus, "127.0.0.1", 0) as server:
        yield (
            server,
            replace(
                base,
                kind=BusKind.TCP,
                host="127.0.0.1",
                port=server.port,
                unit_ids=tuple(i.unit_id for i in bus),
            ),
        )


@asynccontextmanager
async def rtu_inverters(
    bus: InverterBus, template: BusConfig | None = None, *, baud: int = 9600
) -> AsyncIterator[tuple[RtuInverterServer, BusConfig]]:
    """Serve ``bus`` over Modbus RTU on a fresh pty timed as 8E1; the client opens it as 8N1."""
    base = template or BusConfig(timeout_s=1.0, retries=0, turnaround_s=0.0)
    async with RtuInverterServer(bus, PTY, SerialLine(baud=baud, parity="E")) as server:
        yield (
            server,
            replace(
                base,
                kind=BusKind.RTU,
                serial_port=server.path,
                baudrate=baud,
                parity=Parity.NONE,
                unit_ids=tuple(i.unit_id for i in bus),
            ),
        )
