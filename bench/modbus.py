"""Modbus polling against the shared simulated inverters: RTU cycle vs. wire limit, TCP scan.

``rtu_cycle_vs_wire_limit``: one agent poll cycle (``BusScheduler.run_cycle`` with the real
outbox sink) of 10 inverters (model 103) on a 9600 baud 8E1 line, emulated by the simulator on
a pty with real wire timing, divided by the wire-time limit. The limit is the least time the
line needs to carry the data polled: the dynamic blocks of each inverter (models 103, 122,
160), read in requests of at most 125 registers, adjacent blocks merged into one request where
that is cheaper (the registers in between cost bytes, a request costs its overhead), priced by
:mod:`inverter_agent.wiretime` with the simulator's turnaround (0). Discovery is not timed.

``tcp_scan_ms``: a full SunSpec scan over Modbus TCP of one inverter (marker, model chain,
common and nameplate models, first poll), median of several, the connection already open.

Smoke mode: 2 inverters, 1 cycle, 3 scans.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inverter_agent.agent import CycleSink
from inverter_agent.bus import ModbusBus
from inverter_agent.config import BusConfig, BusKind, Parity
from inverter_agent.inverter import SunSpecInverter
from inverter_agent.outbox import Outbox
from inverter_agent.scheduler import BusScheduler
from inverter_agent.sunspec import ModelBlock
from inverter_agent.wiretime import MAX_REGISTERS_PER_READ, BusTiming, request_time, requests_time
from simulator.inverter import (
    PTY,
    InverterBus,
    ManualClock,
    RtuInverterServer,
    SerialLine,
    TcpInverterServer,
)
from tunnel.clock import SystemClock

__all__ = ["run", "wire_limit"]

NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
LINE = BusTiming(kind=BusKind.RTU, baudrate=9600, parity=Parity.EVEN, turnaround_s=0.0)
"""The simulated line: 9600 baud 8E1, no think time in the simulated inverters."""


def wire_limit(timing: BusTiming, dynamic: Iterable[ModelBlock | None]) -> float:
    """Least wire time to read these model blocks' data (best grouping into requests)."""
    blocks = sorted((b.data_address, b.data_address + b.length) for b in dynamic if b is not None)
    best = [0.0] * (len(blocks) + 1)  # best[i]: the first i blocks
    for i in range(1, len(blocks) + 1):
        best[i] = best[i - 1] + requests_time(timing, [blocks[i - 1][1] - blocks[i - 1][0]])
        for j in range(i - 1, 0, -1):  # blocks j-1 .. i-1 in one request
            span = blocks[i - 1][1] - blocks[j - 1][0]
            if span > MAX_REGISTERS_PER_READ:
                break
            best[i] = min(best[i], best[j - 1] + request_time(timing, span))
    return best[-1]


async def _rtu_cycle(count: int, cycles: int) -> dict[str, float]:
    sim = InverterBus.generate(count, seed=7, clock=ManualClock(NOON))
    line = SerialLine(baud=LINE.baudrate, parity="E")
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            RtuInverterServer(sim, PTY, line) as server,
            await Outbox.open(Path(tmp) / "outbox.sqlite3", max_readings=10_000) as outbox,
        ):
            config = BusConfig(
                kind=BusKind.RTU,
                serial_port=server.path,
                parity=Parity.NONE,  # a pty refuses PARENB; the simulator still times 8E1
                unit_ids=tuple(range(1, count + 1)),
                timeout_s=1.0,
                retries=0,
            )
            async with ModbusBus.from_config(config) as bus:
                pollers = [SunSpecInverter(bus, unit) for unit in config.unit_ids]
                scheduler = BusScheduler(
                    name="bench",
                    pollers=pollers,
                    timing=LINE,
                    interval_s=3600.0,
                    timeout_cost_s=1.0,
                    sink=CycleSink(outbox, uplink=None),
                    clock=SystemClock(),
                )
                first = await scheduler.run_cycle()  # discovery, not timed
                if first.failed or first.skipped:
                    raise RuntimeError(f"discovery cycle incomplete: {first}")
                times = []
                for _ in range(cycles):
                    start = time.perf_counter()
                    report = await scheduler.run_cycle()
                    times.append(time.perf_counter() - start)
                    if len(report.polled) != count:
                        raise RuntimeError(f"cycle incomplete: {report}")
    found = [p.discovery for p in pollers if p.discovery is not None]
    limit = sum(wire_limit(LINE, (d.inverter, d.status, d.mppt)) for d in found)
    own_reads = sum(requests_time(LINE, d.poll_blocks) for d in found)
    return {"cycle_s": statistics.median(times), "limit_s": limit, "own_reads_s": own_reads}


async def _tcp_scan(repeats: int) -> float:
    sim = InverterBus.generate(1, seed=7, clock=ManualClock(NOON))
    async with TcpInverterServer(sim, "127.0.0.1", 0) as server:
        config = BusConfig(kind=BusKind.TCP, host="127.0.0.1", port=server.port, timeout_s=2.0)
        async with ModbusBus.from_config(config) as bus:
            await bus.read_holding_registers(1, 40000, 2)  # connect
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                await SunSpecInverter(bus, 1).poll()
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(*, smoke: bool) -> dict[str, Any]:
    """Run both measurements; metrics and the ratio to the wire limit."""
    count, cycles, repeats = (2, 1, 3) if smoke else (10, 3, 30)
    rtu = asyncio.run(_rtu_cycle(count, cycles))
    scan_s = asyncio.run(_tcp_scan(repeats))
    return {
        "metrics": {
            "inverters": count,
            "rtu_cycle_s": rtu["cycle_s"],
            "rtu_wire_limit_s": rtu["limit_s"],
            "rtu_agent_reads_wire_s": rtu["own_reads_s"],
            "tcp_scan_ms": scan_s * 1000,
        },
        "ratios": {
            "rtu_cycle_vs_wire_limit": rtu["cycle_s"] / rtu["limit_s"],
            "rtu_cycle_vs_agent_reads_wire": rtu["cycle_s"] / rtu["own_reads_s"],
        },
    }
